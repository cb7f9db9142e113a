//! Payees: `GET /payees`, `POST /payees`, `GET`, `PATCH` and `DELETE /payees/{payee_id}`.
//! Transfer payees (one per account, "Transfer : <account>") are listed with their
//! `transfer_account_id` and change only with their account (409 here).

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod update;

use serde::{Deserialize, Serialize};
use shared::db::{DbError, Row};
use shared::domain::{AccountId, Name, PayeeId};
use shared::http::ApiError;
use shared::version::Version;

/// Payees a household may have: their list stays below the Data API's 1 MiB response limit even
/// with every name at its 100 characters (a test fills a household to check).
pub const MAX_PAYEES: i64 = 2000;

/// The columns of [`Payee::from_row`] for payee `p`.
pub const COLUMNS: &str = concat!("p.id, p.name, p.transfer_account_id, ", shared::version_of!("p"));

/// What a transfer payee answers to a rename or delete.
pub const TRANSFER_PAYEE: &str =
    "This is an account's transfer payee; it is renamed and deleted with its account.";

/// A failed payee write: a name another payee has is 409, the rest as [`DbError`] maps them.
pub fn write_error(error: DbError) -> ApiError {
    match error {
        DbError::UniqueViolation { .. } => {
            ApiError::Conflict("A payee with this name already exists in the household.".to_owned())
        }
        other => other.into(),
    }
}

/// The body of a create or a rename: the payee's name, and nothing else.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PayeeName)]
pub struct NameBody {
    #[schema(value_type = shared::domain::Name)]
    pub name: String,
}

/// A payee as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Payee {
    pub id: PayeeId,
    pub name: Name,
    pub transfer_account_id: Option<AccountId>,
    #[serde(skip)]
    pub version: Version,
}

impl Payee {
    /// Reads [`COLUMNS`] starting at column `first`.
    ///
    /// # Errors
    /// When the row does not have that shape.
    pub fn from_row(row: &Row<'_>, first: usize) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.get(first)?,
            name: row.get(first + 1)?,
            transfer_account_id: row.get(first + 2)?,
            version: row.get(first + 3)?,
        })
    }

    /// 200 with the payee and its `ETag`.
    pub fn reply(self) -> shared::http::Reply {
        let version = self.version;
        shared::http::Reply::ok(&self).with_version(version)
    }
}

/// The `name` of a create or rename body.
///
/// # Errors
/// 422 naming `name`.
pub fn parse_name(text: &str) -> Result<Name, ApiError> {
    Name::parse(text).map_err(|e| ApiError::invalid("name", e.to_string()))
}
