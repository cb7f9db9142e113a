//! Accounts: `GET /accounts`, `POST /accounts`, `GET`, `PATCH` and `DELETE /accounts/{account_id}`.
//!
//! Balances are never stored: every answer sums the account's live transactions (not deleted,
//! split lines counted through their parent) in the same statement, so they cannot drift.
//! Every account has a transfer payee, "Transfer : <name>", created and renamed with it.

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod update;

use serde::Serialize;
use shared::db::{DbError, Row};
use shared::domain::{AccountId, AccountKind, Name, ParseError, PayeeId, Total};
use shared::http::ApiError;
use shared::version::Version;

/// Accounts a household may have: their list (with balances) stays far below the Data API's
/// 1 MiB response limit.
pub const MAX_ACCOUNTS: i64 = 200;

/// Account names leave room for their transfer payee's "Transfer : " within a payee name's 100.
pub const MAX_NAME_LEN: usize = Name::MAX_LEN - TRANSFER_PREFIX.len();

/// The transfer payee's name is this followed by the account's.
pub const TRANSFER_PREFIX: &str = "Transfer : ";

/// An account name: a [`Name`] short enough for its transfer payee's name.
///
/// # Errors
/// As [`Name::parse`], or [`ParseError::TooLong`].
pub fn account_name(text: &str) -> Result<Name, ParseError> {
    let name = Name::parse(text)?;
    if name.as_str().chars().count() > MAX_NAME_LEN {
        return Err(ParseError::TooLong { max: MAX_NAME_LEN });
    }
    Ok(name)
}

/// A note: free text of at most 1,000 characters (the column's check).
///
/// # Errors
/// As [`shared::domain::free_text`].
pub fn note(text: &str) -> Result<String, ParseError> {
    shared::domain::free_text(text, 1000)?;
    Ok(text.to_owned())
}

/// The balances of account `a` from its live transactions, joined as `b`: exact sums (`numeric`,
/// read as [`Total`]), never cast to 64 bits.
pub const BALANCES: &str = "LEFT JOIN LATERAL ( \
    SELECT coalesce(sum(t.amount), 0) AS balance, \
           coalesce(sum(t.amount) FILTER (WHERE t.cleared <> 'uncleared'), 0) AS cleared, \
           coalesce(sum(t.amount) FILTER (WHERE t.cleared = 'uncleared'), 0) AS uncleared \
    FROM transactions t \
    WHERE t.household_id = a.household_id AND t.account_id = a.id \
      AND t.deleted_at IS NULL AND t.parent_id IS NULL) b ON true";

/// The columns of [`Account::from_row`] for account `a`, balances `b` (see [`BALANCES`]).
pub const COLUMNS: &str = concat!(
    "a.id, a.name, a.kind, a.on_budget, \
    to_char(a.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), a.note, \
    b.balance, b.cleared, b.uncleared, \
    (SELECT p.id FROM payees p WHERE p.household_id = a.household_id AND p.transfer_account_id = a.id), \
    to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), ",
    shared::version_of!("a")
);

/// An account as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: AccountId,
    pub name: Name,
    pub kind: AccountKind,
    pub on_budget: bool,
    pub closed: bool,
    pub closed_at: Option<String>,
    pub note: Option<String>,
    pub balance: Total,
    pub cleared_balance: Total,
    pub uncleared_balance: Total,
    pub transfer_payee_id: Option<PayeeId>,
    pub created_at: String,
    #[serde(skip)]
    pub version: Version,
}

impl Account {
    /// Reads [`COLUMNS`] starting at column `first`.
    ///
    /// # Errors
    /// When the row does not have that shape.
    pub fn from_row(row: &Row<'_>, first: usize) -> Result<Self, ApiError> {
        let closed_at: Option<String> = row.get(first + 4)?;
        Ok(Self {
            id: row.get(first)?,
            name: row.get(first + 1)?,
            kind: row.get(first + 2)?,
            on_budget: row.get(first + 3)?,
            closed: closed_at.is_some(),
            closed_at,
            note: row.get(first + 5)?,
            balance: row.get(first + 6)?,
            cleared_balance: row.get(first + 7)?,
            uncleared_balance: row.get(first + 8)?,
            transfer_payee_id: row.get(first + 9)?,
            created_at: row.get(first + 10)?,
            version: row.get(first + 11)?,
        })
    }
}

/// A failed account write: the unique violations it can meet as the 409s that name them, the
/// rest as [`DbError`] maps them.
pub fn write_error(error: DbError) -> ApiError {
    match error {
        DbError::UniqueViolation { constraint } => match constraint.as_str() {
            "uq_accounts_household_id_name" => ApiError::Conflict(
                "An account with this name already exists in the household.".to_owned(),
            ),
            "uq_payees_household_id_name" => ApiError::Conflict(
                "A payee named \"Transfer : <this name>\" already exists; rename it or choose another account name."
                    .to_owned(),
            ),
            _ => ApiError::Internal(format!("unique {constraint}")),
        },
        other => other.into(),
    }
}
