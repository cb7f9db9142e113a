//! What the caller may do, by the role stored in the database now (read in the endpoint's own
//! statement), not the role their token was issued with: a demoted owner loses owner rights and a
//! removed member loses everything at once.

use shared::db::{Row, Rows};
use shared::domain::Role;
use shared::http::ApiError;

/// 401 when the caller is no longer a member (no stored role).
///
/// # Errors
/// As above.
pub fn member(stored: Option<Role>) -> Result<Role, ApiError> {
    stored.ok_or(ApiError::Unauthorized(
        "You are no longer a member of this household.",
    ))
}

/// 401 as [`member`]; 403 for a member who is not an owner (`what` says what they may not do).
///
/// # Errors
/// As above.
pub fn owner(stored: Option<Role>, what: &'static str) -> Result<(), ApiError> {
    match member(stored)? {
        Role::Owner => Ok(()),
        Role::Member => Err(ApiError::Forbidden(what)),
    }
}

/// The one row a statement built as `SELECT … FROM (SELECT 1) AS one LEFT JOIN …` always answers.
///
/// # Errors
/// 500 if it answered none, which such a statement cannot.
pub fn one_row(rows: &Rows) -> Result<Row<'_>, ApiError> {
    rows.first()
        .ok_or_else(|| ApiError::Internal("a statement that always answers one row answered none".to_owned()))
}
