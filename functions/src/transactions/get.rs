//! `GET /transactions/{transaction_id}`: one transaction with its split lines, deleted or not (a
//! sync client may ask after a tombstone). Split lines are reached through their parent. One Data
//! API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::TransactionId;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, JOINS, Transaction};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/transactions/{transaction_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "One transaction with its split lines (also a deleted one)")
        .answers::<Transaction>(200, "The transaction.")
        .etag()
}

static FIND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN transactions t ON t.id = :transaction_id AND t.household_id = :household_id \
              AND t.parent_id IS NULL AND EXISTS (SELECT 1 FROM me) \
         {JOINS}"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let id = ROUTE.id(&request, "transaction_id", TransactionId::parse)?;
    let params = access::caller(&claims, [param("transaction_id", &id)]);
    let rows = app.db.execute(&FIND, params).await?;
    let row = access::found_row(&rows, 1)?;
    let transaction = Transaction::from_row(&row, 1)?;
    let version = transaction.version;
    Ok(Reply::ok(&transaction).with_version(version))
}
