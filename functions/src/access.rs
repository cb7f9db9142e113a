//! What the caller may do, by the role stored in the database now (read in the endpoint's own
//! statement), not the role their token was issued with: a demoted owner loses owner rights and a
//! removed member loses everything at once.

use std::sync::Arc;

use aws_sdk_rdsdata::types::SqlParameter;
use shared::auth::Claims;
use shared::db::{Row, Rows, param};
use shared::domain::Role;
use shared::http::ApiError;

use crate::idempotency::Scope;

/// The common table expressions every household-scoped statement starts with: `me`, the caller's
/// role as stored now, or no row once they have left the household or their session has ended
/// ([`crate::live_session_sql`]), or when the request's `Idempotency-Key` was already claimed
/// (see [`crate::idempotency`]). Its parameters come from
/// [`caller`]; the statement answers `(SELECT role FROM me)` as its first column, and every write
/// in it requires a `me` row.
///
/// A write request (`:writing`) first locks its household's row, which every write to a synced
/// table updates anyway (its server knowledge, by trigger): taking that lock before any other
/// row lock means two writes in one household queue up instead of deadlocking.
pub const ME: &str = concat!(
    "household AS (SELECT id FROM households \
                   WHERE id = :household_id AND :writing::boolean FOR NO KEY UPDATE), ",
    crate::claim_sql!(),
    ", me AS (SELECT role FROM users WHERE id = :user_id AND household_id = :household_id AND left_at IS NULL \
              AND (NOT :writing::boolean OR EXISTS (SELECT 1 FROM household)) \
              AND (:idempotency_key::text IS NULL OR EXISTS (SELECT 1 FROM claim)) \
              AND ",
    crate::live_session_sql!(),
    ")"
);

/// What the household statements of one request need to know about it, besides the caller.
#[derive(Clone)]
struct Serving {
    writing: bool,
    key: Option<Arc<Scope>>,
}

tokio::task_local! {
    static SERVING: Serving;
}

/// Runs `handler` (the glue does, for every request) knowing whether it serves a write and the
/// request's idempotency key, if it has one.
pub async fn serving<F: Future>(writing: bool, key: Option<Arc<Scope>>, handler: F) -> F::Output {
    SERVING.scope(Serving { writing, key }, handler).await
}

/// The parameters [`ME`] needs (`user_id`, `household_id`, `session_id`, whether the request
/// writes, and its idempotency key), then the endpoint's own.
pub fn caller(claims: &Claims, own: impl IntoIterator<Item = SqlParameter>) -> Vec<SqlParameter> {
    let serving = SERVING.try_with(Clone::clone).ok();
    let writing = serving.as_ref().is_some_and(|s| s.writing);
    let key = serving.as_ref().and_then(|s| s.key.as_deref());
    let mut params = vec![
        param("user_id", &claims.sub),
        param("household_id", &claims.hid),
        param("session_id", &claims.sid),
        param("writing", &writing),
    ];
    params.extend(crate::idempotency::statement_params(key, claims));
    params.extend(own);
    params
}

/// The statement's one row, once its first column shows the caller is still a member.
///
/// # Errors
/// 401 as [`member`]; 500 as [`one_row`].
pub fn member_row(rows: &Rows) -> Result<(Row<'_>, Role), ApiError> {
    let row = one_row(rows)?;
    let role = member(row.get(0)?)?;
    Ok((row, role))
}

/// The statement's one row, once its first column shows the caller is an owner.
///
/// # Errors
/// 401 and 403 as [`owner`]; 500 as [`one_row`].
pub fn owner_row<'a>(rows: &'a Rows, what: &'static str) -> Result<Row<'a>, ApiError> {
    let row = one_row(rows)?;
    owner(row.get(0)?, what)?;
    Ok(row)
}

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
