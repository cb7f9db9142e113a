//! `GET /openapi.json`: the OpenAPI document, public. Generated once per cold start from the same
//! code as the committed `openapi.json` (a test keeps the two equal). No Data API call.

use std::sync::LazyLock;

use lambda_http::{Body, Request, Response};
use shared::http::{ApiError, Reply, Route};

use super::Doc;
use super::doc::schema_json;
use crate::app::App;
use crate::http::respond as glue;

pub const ROUTE: Route = Route::new("GET", "/openapi.json");

static DOCUMENT: LazyLock<String> = LazyLock::new(|| super::document().to_string());

pub fn doc() -> Doc {
    Doc::new(ROUTE, "This OpenAPI 3.1 document")
        .public()
        .answers_with(
            200,
            "The document.",
            "application/json",
            schema_json(utoipa::openapi::ObjectBuilder::new()),
        )
}

pub async fn respond(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    glue(app, ROUTE, request, handle).await
}

async fn handle(_app: App, _request: Request) -> Result<Reply, ApiError> {
    Ok(Reply::text("application/json", DOCUMENT.clone()))
}
