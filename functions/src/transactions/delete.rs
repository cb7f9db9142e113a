//! `DELETE /transactions/{transaction_id}`: a soft delete. The transaction, its split lines and
//! its transfer's other leg get the same `deleted_at` (the statement's `now()`), so both accounts stay
//! consistent and balances, budgets and sync clients (which see the tombstones) agree. `If-Match`
//! honoured. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::TransactionId;
use shared::http::{ApiError, Reply, Route, bearer};
use shared::version::{self, BUMP, Precondition};

use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("DELETE", "/transactions/{transaction_id}");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Delete a transaction (with its split lines and its transfer's other leg)",
    )
    .answers_nothing(204, "Deleted; reading it shows `deleted: true`.")
    .if_match()
}

static DELETE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS ( \
           SELECT t.id, t.transfer_transaction_id, {matches} AS allowed FROM transactions t \
           WHERE t.id = :transaction_id AND t.household_id = :household_id AND t.parent_id IS NULL \
             AND t.deleted_at IS NULL AND EXISTS (SELECT 1 FROM me)), \
         gone AS ( \
           UPDATE transactions x SET deleted_at = now(), {BUMP} \
           FROM target \
           WHERE target.allowed AND x.household_id = :household_id AND x.deleted_at IS NULL \
             AND (x.id = target.id OR x.parent_id = target.id OR x.id = target.transfer_transaction_id) \
           RETURNING x.id) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM target), EXISTS (SELECT 1 FROM gone)) {ANSWER}",
        matches = version::matches("t"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let id = ROUTE.id(&request, "transaction_id", TransactionId::parse)?;
    let params = access::caller(
        &claims,
        [param("transaction_id", &id), Precondition::of(&request).param()],
    );
    let rows = access::answer(&app.db.execute(&DELETE, params).await?)?;
    let (row, _) = access::member_row(&rows)?;
    access::written(row.get(1)?, None, row.get(2)?)?;
    Ok(Reply::no_content())
}
