//! What the caller may do, by the role stored in the database now (read in the endpoint's own
//! statement), not the role their token was issued with: a demoted owner loses owner rights and a
//! removed member loses everything at once.

use std::sync::Arc;

use aws_sdk_rdsdata::types::Field;
use aws_sdk_rdsdata::types::SqlParameter;
use shared::auth::Claims;
use shared::db::{DecodeError, FromField, Row, Rows, param};
use shared::domain::{Role, SqlEnum};
use shared::http::ApiError;

use crate::idempotency::Scope;

/// The common table expressions every household-scoped statement starts with: `me`, the caller's
/// role as stored now, or no row once they have left the household or their session has ended
/// ([`crate::live_session_sql`]), or when the request's `Idempotency-Key` was already claimed
/// (see [`crate::idempotency`]). Every write in the statement requires a `me` row. Its
/// parameters come from [`caller`]; the statement answers `(SELECT role FROM caller)` as its
/// first column ([`Caller`]): the role, `key-taken` when a live member's key was already claimed
/// (the statement itself says so; nothing is inferred from its answer), or NULL for no member.
///
/// A write request (`:writing`) first locks its household's row, which every write to a synced
/// table updates anyway (its server knowledge, by trigger): taking that lock before any other
/// row lock means two writes in one household queue up instead of deadlocking.
pub const ME: &str = concat!(
    "household AS (SELECT id FROM households \
                   WHERE id = :household_id AND :writing::boolean FOR NO KEY UPDATE), ",
    crate::claim_sql!(),
    ", member_now AS (SELECT role FROM users \
                      WHERE id = :user_id AND household_id = :household_id AND left_at IS NULL AND ",
    crate::live_session_sql!(),
    "), me AS (SELECT role FROM member_now WHERE (NOT :writing::boolean OR EXISTS (SELECT 1 FROM household)) \
              AND (:idempotency_key::text IS NULL OR EXISTS (SELECT 1 FROM claim))), \
     caller AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM me) THEN role \
                            WHEN :idempotency_key::text IS NOT NULL THEN '",
    crate::key_taken!(),
    "' END AS role FROM member_now)"
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

/// The rows of a household write (its statement ends in [`crate::idempotency::ANSWER`]), read
/// the same way whether they are its own or those kept by an earlier request with the same
/// `Idempotency-Key`; in that case the request is marked as a repeat for the glue.
///
/// # Errors
/// As [`crate::idempotency::answered`].
pub fn answer(rows: &Rows) -> Result<Rows, ApiError> {
    let (rows, repeat) = crate::idempotency::answered(rows)?;
    if repeat {
        // A statement with a repeat ran for a request with a key, inside the glue's scope.
        if let Ok(Some(key)) = SERVING.try_with(|serving| serving.key.clone()) {
            key.mark_repeated();
        }
    }
    Ok(rows)
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

/// The statement's one row, once its first column shows the caller is a member and column `at`
/// (the resource's id, NULL when the statement's LEFT JOIN found none of the caller's household)
/// shows the resource.
///
/// # Errors
/// As [`member_row`]; 404 for no such resource, whether unknown or another household's.
pub fn found_row(rows: &Rows, at: usize) -> Result<Row<'_>, ApiError> {
    let (row, _) = member_row(rows)?;
    if row.get::<Option<String>>(at)?.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(row)
}

/// A conditional write's outcome, from whether its target is one of the household's, why the
/// statement refused to write it (a rule the stored rows decide, if one applies), and whether it
/// wrote it (it does not when `If-Match` no longer matches).
///
/// # Errors
/// 404 for no such target, then the refusal, then 412 for one that changed since the version the
/// request names.
pub fn written(exists: bool, refused: Option<ApiError>, written: bool) -> Result<(), ApiError> {
    match (exists, refused, written) {
        (false, _, _) => Err(ApiError::NotFound),
        (true, Some(refusal), _) => Err(refusal),
        (true, None, false) => Err(ApiError::PreconditionFailed),
        (true, None, true) => Ok(()),
    }
}

/// Why a member cannot lose the owner role (by a role change or by leaving).
pub const LAST_OWNER: &str = "This is the household's last owner; make another member an owner first.";

/// The statement's one row, once its first column shows the caller is an owner.
///
/// # Errors
/// 401 and 403 as [`owner`]; 500 as [`one_row`].
pub fn owner_row<'a>(rows: &'a Rows, what: &'static str) -> Result<Row<'a>, ApiError> {
    let row = one_row(rows)?;
    owner(row.get(0)?, what)?;
    Ok(row)
}

/// The first column of a household statement: who the caller is for this request (NULL: no
/// member).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Member(Role),
    /// A member whose `Idempotency-Key` another request claimed first: nothing was written
    /// ([`crate::idempotency::ANSWER`] answers the first request's rows instead).
    KeyTaken,
}

impl FromField for Caller {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        let text = String::from_field(field)?;
        if text == crate::key_taken!() {
            return Ok(Self::KeyTaken);
        }
        Ok(Self::Member(Role::parse(&text)?))
    }
}

/// The caller's role; 401 when they are no longer a member, [`ApiError::KeyTaken`] when their
/// key was already claimed.
///
/// # Errors
/// As above.
pub fn member(caller: Option<Caller>) -> Result<Role, ApiError> {
    match caller {
        Some(Caller::Member(role)) => Ok(role),
        Some(Caller::KeyTaken) => Err(ApiError::KeyTaken),
        None => Err(ApiError::Unauthorized(
            "You are no longer a member of this household.",
        )),
    }
}

/// As [`member`]; 403 for a member who is not an owner (`what` says what they may not do).
///
/// # Errors
/// As above.
pub fn owner(stored: Option<Caller>, what: &'static str) -> Result<(), ApiError> {
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
