//! The caller's household: `GET /household` and `PATCH /household`.
//!
//! Both read the household in the shape below, members included, in the same one statement that
//! checks the caller still belongs to it (a removed member's token stops working at once).

pub mod get;
pub mod member_remove;
pub mod member_role;
pub mod update;

use std::sync::LazyLock;

use serde::Serialize;
use shared::db::Row;
use shared::domain::{CurrencyCode, HouseholdId, Name};
use shared::http::ApiError;
use shared::version::{self, Version};

/// A timestamp as the API writes it: RFC 3339 in UTC with microseconds.
macro_rules! iso {
    ($column:literal) => {
        concat!(
            "to_char(",
            $column,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
}

/// The columns of [`Household::from_row`] for the household row `h`: id, name, currency_code,
/// created_at, version, and the members as one JSON array (oldest first).
pub(crate) static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "h.id, h.name, h.currency_code, {created}, {version}, \
         (SELECT json_agg(json_build_object('user_id', u.id, 'email', u.email, \
                 'display_name', u.display_name, 'role', u.role, 'joined_at', {joined}) \
                 ORDER BY u.created_at, u.id) \
            FROM users u WHERE u.household_id = h.id)::text",
        created = iso!("h.created_at"),
        version = version::version("h"),
        joined = iso!("u.created_at"),
    )
});

/// The household as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Household {
    pub id: HouseholdId,
    pub name: Name,
    pub currency_code: CurrencyCode,
    pub created_at: String,
    pub members: Vec<Member>,
    #[serde(skip)]
    pub version: Version,
}

/// One member, as `members[]` shows them.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Member {
    #[schema(value_type = shared::domain::UserId)]
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    #[schema(value_type = shared::domain::Role)]
    pub role: String,
    pub joined_at: String,
}

impl Household {
    /// Reads [`COLUMNS`] starting at column `first`.
    ///
    /// # Errors
    /// When the row does not have that shape.
    pub fn from_row(row: &Row<'_>, first: usize) -> Result<Self, ApiError> {
        let members: Option<String> = row.get(first + 5)?;
        let members = match members {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| ApiError::Internal(format!("members of a household: {e}")))?,
            None => Vec::new(),
        };
        Ok(Self {
            id: row.get(first)?,
            name: row.get(first + 1)?,
            currency_code: row.get(first + 2)?,
            created_at: row.get(first + 3)?,
            version: row.get(first + 4)?,
            members,
        })
    }
}
