//! The caller's household: `GET /household` and `PATCH /household`.
//!
//! Both read the household in the shape below, members included, in the same one statement that
//! checks the caller still belongs to it (a removed member's token stops working at once).

pub mod departure;
pub mod get;
pub mod member_remove;
pub mod member_role;
pub mod update;

use std::sync::LazyLock;

use serde::Serialize;
use shared::db::Row;
use shared::domain::{CurrencyCode, HouseholdId, Name, TimeZone};
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
/// created_at, version, the members as one JSON array (oldest first; with the statement parameter
/// `known`, a client's server knowledge, only those changed since), the server knowledge, the
/// ids of the members who left since `known`, and the time zone.
pub(crate) static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "h.id, h.name, h.currency_code, {created}, {version}, \
         (SELECT json_agg(json_build_object('user_id', u.id, 'email', u.email, \
                 'display_name', u.display_name, 'role', u.role, 'joined_at', {joined}) \
                 ORDER BY u.created_at, u.id) \
            FROM users u WHERE u.household_id = h.id AND u.left_at IS NULL AND {changed})::text, \
         h.server_knowledge, {left}, h.time_zone",
        changed = crate::sync::changed("u"),
        left = crate::sync::deleted_ids("users"),
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
    /// Decides what "today" is for the household's scheduled transactions.
    pub time_zone: TimeZone,
    pub created_at: String,
    /// With `last_knowledge_of_server`, only the members who joined or changed since, and a
    /// `{"user_id", "deleted": true}` for each who left.
    pub members: Vec<MemberChange>,
    pub server_knowledge: i64,
    #[serde(skip)]
    pub version: Version,
}

/// A member, or one who left the household after the client's knowledge.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MemberChange {
    Member(Member),
    Left(LeftMember),
}

/// A member who left after the client's knowledge.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeftMember {
    #[schema(value_type = shared::domain::UserId)]
    pub user_id: String,
    /// Always `true`.
    pub deleted: bool,
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
        let members: Vec<Member> = json_list(row, first + 5, "members")?;
        let left: Vec<String> = json_list(row, first + 7, "members who left")?;
        let members = members
            .into_iter()
            .map(MemberChange::Member)
            .chain(left.into_iter().map(|user_id| {
                MemberChange::Left(LeftMember {
                    user_id,
                    deleted: true,
                })
            }))
            .collect();
        Ok(Self {
            id: row.get(first)?,
            name: row.get(first + 1)?,
            currency_code: row.get(first + 2)?,
            time_zone: row.get(first + 8)?,
            created_at: row.get(first + 3)?,
            version: row.get(first + 4)?,
            members,
            server_knowledge: row.get(first + 6)?,
        })
    }
}

/// A JSON array column (NULL for none).
fn json_list<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    at: usize,
    what: &str,
) -> Result<Vec<T>, ApiError> {
    match row.get::<Option<String>>(at)? {
        Some(json) => {
            serde_json::from_str(&json).map_err(|e| ApiError::Internal(format!("{what} of a household: {e}")))
        }
        None => Ok(Vec::new()),
    }
}
