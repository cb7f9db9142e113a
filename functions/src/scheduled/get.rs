//! `GET /scheduled-transactions/{scheduled_transaction_id}`: one schedule with its lines and next
//! dates, deleted or not (a sync client may ask after one). One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::ScheduledTransactionId;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, JOINS, ScheduledTransaction};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/scheduled-transactions/{scheduled_transaction_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "One scheduled transaction with its lines and next dates")
        .answers::<ScheduledTransaction>(200, "The scheduled transaction.")
        .etag()
}

static FIND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN scheduled_transactions s ON s.id = :scheduled_transaction_id \
              AND s.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
         {JOINS}"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let id = ROUTE.id(
        &request,
        "scheduled_transaction_id",
        ScheduledTransactionId::parse,
    )?;
    let params = access::caller(&claims, [param("scheduled_transaction_id", &id)]);
    let rows = app.db.execute(&FIND, params).await?;
    let row = access::found_row(&rows, 1)?;
    let schedule = ScheduledTransaction::from_row(&row, 1)?;
    let version = schedule.version;
    Ok(Reply::ok(&schedule).with_version(version))
}
