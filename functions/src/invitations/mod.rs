//! Invitations into the caller's household, owners only: `POST`, `GET` and
//! `DELETE /household/invitations`. The token is shown once, when the invitation is created, and
//! stored only as its hash; registering with it (`POST /auth/register`) joins the household.

pub mod accept;
pub mod create;
pub mod list;
pub mod revoke;

use serde::Serialize;
use shared::db::Row;
use shared::domain::{Email, InvitationId, Role, UserId};
use shared::http::ApiError;

/// What a member who is not an owner is told.
pub const OWNERS_ONLY: &str = "Only an owner of the household can manage invitations.";

/// How long an invitation can be accepted.
pub const VALID_DAYS: i64 = 7;

/// Pending invitations a household may have at once: enough for any household, and a list that
/// stays far below the Data API's 1 MiB response limit.
pub const MAX_PENDING: i64 = 100;

/// An invitation as the API shows it (never with its token, but at creation).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: Email,
    pub role: Role,
    pub invited_by: UserId,
    pub created_at: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_token: Option<String>,
}

/// The columns of [`Invitation::from_row`] for the invitation row `i`.
pub const COLUMNS: &str = "i.id, i.email, i.role, i.invited_by, \
    to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
    to_char(i.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

impl Invitation {
    /// Reads [`COLUMNS`] starting at column `first`.
    ///
    /// # Errors
    /// When the row does not have that shape.
    pub fn from_row(row: &Row<'_>, first: usize) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.get(first)?,
            email: row.get(first + 1)?,
            role: row.get(first + 2)?,
            invited_by: row.get(first + 3)?,
            created_at: row.get(first + 4)?,
            expires_at: row.get(first + 5)?,
            invitation_token: None,
        })
    }
}
