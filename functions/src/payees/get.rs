//! `GET /payees/{payee_id}`. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::PayeeId;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, Payee};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/payees/{payee_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "One payee")
        .answers::<super::Payee>(200, "The payee.")
        .etag()
}

static FIND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN payees p ON p.id = :payee_id AND p.household_id = :household_id AND EXISTS (SELECT 1 FROM me)"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let payee = ROUTE.id(&request, "payee_id", PayeeId::parse)?;
    let params = access::caller(&claims, [param("payee_id", &payee)]);
    let rows = app.db.execute(&FIND, params).await?;
    let row = access::found_row(&rows, 1)?;
    Ok(Payee::from_row(&row, 1)?.reply())
}
