//! `POST /auth/logout`: revoke the session's whole token family. One Data API call. Logging out
//! twice, or with an unknown token, also answers 204: there is nothing left to end.

use lambda_http::{Body, Request, Response};
use shared::db::param;
use shared::http::{ApiError, Reply, Route};

use super::presented_token;
use crate::app::App;
use crate::http::respond as glue;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("POST", "/auth/logout");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Sign out: revoke every token of this session")
        .public()
        .body::<super::PresentedBody>(json!({"refresh_token": "…"}))
        .answers_nothing(204, "Signed out (also when the token was already revoked).")
}

const REVOKE_FAMILY: &str = "\
UPDATE refresh_tokens SET revoked_at = now()
WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = :token_hash)
  AND revoked_at IS NULL";

pub async fn respond(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    glue(app, ROUTE, request, handle).await
}

async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let token = presented_token(&request)?;
    app.db
        .execute(REVOKE_FAMILY, vec![param("token_hash", &token.hash())])
        .await?;
    Ok(Reply::no_content())
}
