//! `GET /docs`: a page that renders `/openapi.json` for people (Redoc, from a pinned CDN URL with
//! its Subresource Integrity hash, so a changed file is refused by the browser). Public; no Data
//! API call.

use lambda_http::Request;
use serde_json::json;
use shared::http::{ApiError, Reply, Route};

use super::Doc;
use crate::app::App;

pub const ROUTE: Route = Route::new("GET", "/docs");

/// Redoc 3.0.1's standalone bundle, and the SHA-384 of that file as npm publishes it.
const REDOC: &str = "https://cdn.jsdelivr.net/npm/redoc@3.0.1/bundles/redoc.standalone.js";
const REDOC_INTEGRITY: &str = "sha384-j07qRKHNNmcwU1/Y1elJc7pDLHXP/QfbQXTtSkbOJ7uYGJikqAzsFVbY2zR9FqOT";

pub fn doc() -> Doc {
    Doc::new(ROUTE, "The API's documentation, as a page")
        .public()
        .answers_with(200, "An HTML page.", "text/html", json!({"type": "string"}))
}

/// The page: relative to itself, so it works under any stage or custom domain.
fn page() -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Household budget API</title>\n</head>\n<body>\n\
         <redoc spec-url=\"openapi.json\"></redoc>\n\
         <script src=\"{REDOC}\" integrity=\"{REDOC_INTEGRITY}\" crossorigin=\"anonymous\"></script>\n\
         </body>\n</html>\n"
    )
}

pub async fn handle(_app: App, _request: Request) -> Result<Reply, ApiError> {
    Ok(Reply::text("text/html; charset=utf-8", page()))
}
