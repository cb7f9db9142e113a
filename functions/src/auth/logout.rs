//! `POST /auth/logout`: end the session: revoke its whole token family, so its refresh tokens and
//! its access tokens stop working at once (household statements check the session). With
//! `"everywhere": true`, every session of the token's user ends. One Data API call. Logging out
//! twice, or with an unknown token, also answers 204: there is nothing left to end.

use lambda_http::Request;
use shared::db::param;
use shared::http::{ApiError, Reply, Route, json_body};

use crate::app::App;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("POST", "/auth/logout");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Sign out: end this session, or every session of yours")
        .public()
        .body::<LogoutBody>(json!({"refresh_token": "…", "everywhere": false}))
        .answers_nothing(204, "Signed out (also when the token was already revoked).")
}

/// What logout takes: the session's refresh token, and whether to end every session of its user.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LogoutBody {
    refresh_token: String,
    /// End every session of this account (every device), not only this one.
    #[serde(default)]
    everywhere: bool,
}

/// The presented token's family, or with `:everywhere` every family of its user; the latter only
/// for a live token (an old, rotated-out token from a backup must not end every session).
const REVOKE: &str = "\
WITH presented AS (
    SELECT user_id, family_id, revoked_at IS NULL AND expires_at > now() AS live
    FROM refresh_tokens WHERE token_hash = :token_hash)
UPDATE refresh_tokens t SET revoked_at = now()
FROM presented p
WHERE t.revoked_at IS NULL
  AND (t.family_id = p.family_id OR (:everywhere AND p.live AND t.user_id = p.user_id))";

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let body: LogoutBody = json_body(&request)?;
    let token = super::refresh_token(&body.refresh_token)?;
    let params = vec![
        param("token_hash", &token.hash()),
        param("everywhere", &body.everywhere),
    ];
    app.db.execute(REVOKE, params).await?;
    Ok(Reply::no_content())
}
