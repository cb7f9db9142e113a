//! `POST /auth/refresh`: trade a refresh token for a new session, rotating the token. One Data API
//! call.
//!
//! The presented token is revoked and replaced by a new one of the same family, atomically; the
//! new one expires 30 days on, but never after its session's absolute end (`SESSION_TTL` after
//! the login).
//! Presenting a token that was already rotated out means it leaked (or was replayed): the whole
//! family is revoked and the answer is 401, so whoever holds the newer token must log in again.

use chrono::Utc;
use lambda_http::Request;
use shared::db::param;
use shared::domain::{HouseholdId, Role, TokenFamilyId, UserId};
use shared::http::{ApiError, Reply, Route};

use super::{NewRefreshToken, presented_token, session};
use crate::app::App;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("POST", "/auth/refresh");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Trade a refresh token for a new pair (the old one is spent)",
    )
    .public()
    .body::<super::PresentedBody>(json!({"refresh_token": "…"}))
    .answers::<super::Session>(200, "A new access token and refresh token.")
    .problem(401, "The refresh token is invalid, expired or already used.")
}

/// Locks the presented token's row (`FOR UPDATE`, so two concurrent refreshes with one token
/// cannot both rotate it: the second sees it revoked and counts as reuse), rotates it if it is
/// live, or revokes its whole family if it was already revoked. Returns the user only on rotation.
const ROTATE: &str = "\
WITH presented AS (
    SELECT id, family_id, session_expires_at, revoked_at IS NOT NULL AS revoked,
           expires_at <= now() AS expired
    FROM refresh_tokens WHERE token_hash = :presented_hash
    FOR UPDATE
), rotated AS (
    UPDATE refresh_tokens t SET revoked_at = now(), replaced_by = :token_id
    FROM presented p
    WHERE t.id = p.id AND NOT p.revoked AND NOT p.expired
    RETURNING t.user_id
), issued AS (
    INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, session_expires_at)
    SELECT :token_id, rotated.user_id, p.family_id, :token_hash,
           least(:expires_at::timestamptz, p.session_expires_at), p.session_expires_at
    FROM rotated, presented p
    RETURNING user_id, family_id
), reuse AS (
    UPDATE refresh_tokens t SET revoked_at = now()
    FROM presented p
    WHERE p.revoked AND t.family_id = p.family_id AND t.revoked_at IS NULL
    RETURNING t.id
)
SELECT u.id, u.household_id, u.role, issued.family_id FROM issued JOIN users u ON u.id = issued.user_id";

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let presented = presented_token(&request)?;
    let now = Utc::now();
    let refresh = NewRefreshToken::rotation(now);
    let mut params = vec![param("presented_hash", &presented.hash())];
    params.extend(refresh.params());
    let rows = app.db.execute(ROTATE, params).await?;
    let Some(row) = rows.first() else {
        return Err(invalid());
    };
    let (user, household, role): (UserId, HouseholdId, Role) = (row.get(0)?, row.get(1)?, row.get(2)?);
    let family: TokenFamilyId = row.get(3)?;
    let signer = app.signer().await?;
    Ok(Reply::ok(&session(
        signer,
        (user, household, role),
        family,
        &refresh.token,
        now,
    )?))
}

fn invalid() -> ApiError {
    ApiError::Unauthorized("The refresh token is invalid, expired or already used; log in again.")
}
