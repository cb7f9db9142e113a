//! `GET /openapi.json`: the OpenAPI document, public: the committed `openapi.json`, built into the
//! binary, so what is served is what is in the repository and costs nothing to make (a test keeps
//! the file equal to what the endpoints generate). No Data API call.

use lambda_http::Request;
use shared::http::{ApiError, Reply, Route};

use super::Doc;
use super::doc::schema_json;
use crate::app::App;

pub const ROUTE: Route = Route::new("GET", "/openapi.json");

/// The repository's openapi.json; the path is relative to this file, so each checkout builds in
/// its own.
const DOCUMENT: &str = include_str!("../../../openapi.json");

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

pub async fn handle(_app: App, _request: Request) -> Result<Reply, ApiError> {
    Ok(Reply::text("application/json", DOCUMENT.to_owned()))
}
