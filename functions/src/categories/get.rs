//! `GET /categories/{category_id}`. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::CategoryId;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, category_reply};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/categories/{category_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "One category")
        .answers::<super::Category>(200, "The category.")
        .etag()
}

static FIND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN categories c ON c.id = :category_id AND c.household_id = :household_id \
              AND EXISTS (SELECT 1 FROM me)"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let category = ROUTE.id(&request, "category_id", CategoryId::parse)?;
    let params = access::caller(&claims, [param("category_id", &category)]);
    let rows = app.db.execute(&FIND, params).await?;
    let row = access::found_row(&rows, 1)?;
    category_reply(&row, 1, false)
}
