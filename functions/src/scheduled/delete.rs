//! `DELETE /scheduled-transactions/{scheduled_transaction_id}`: a soft delete; the scheduler makes
//! nothing more from it, and the transactions it made stay. `If-Match` honoured. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::ScheduledTransactionId;
use shared::http::{ApiError, Reply, Route, bearer};
use shared::version::{self, BUMP, Precondition};

use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("DELETE", "/scheduled-transactions/{scheduled_transaction_id}");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Delete a scheduled transaction (the transactions it made stay)",
    )
    .answers_nothing(204, "Deleted; reading it shows `deleted: true`.")
    .if_match()
}

static DELETE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS ( \
           SELECT s.id, {matches} AS allowed FROM scheduled_transactions s \
           WHERE s.id = :scheduled_transaction_id AND s.household_id = :household_id \
             AND s.deleted_at IS NULL AND EXISTS (SELECT 1 FROM me)), \
         gone AS ( \
           UPDATE scheduled_transactions x SET deleted_at = now(), date_next = NULL, {BUMP} FROM target \
           WHERE target.allowed AND x.household_id = :household_id AND x.id = target.id \
           RETURNING x.id) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM target), EXISTS (SELECT 1 FROM gone)) {ANSWER}",
        matches = version::matches("s"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let id = ROUTE.id(
        &request,
        "scheduled_transaction_id",
        ScheduledTransactionId::parse,
    )?;
    let params = access::caller(
        &claims,
        [
            param("scheduled_transaction_id", &id),
            Precondition::of(&request).param(),
        ],
    );
    let rows = access::answer(&app.db.execute(&DELETE, params).await?)?;
    let (row, _) = access::member_row(&rows)?;
    access::written(row.get(1)?, None, row.get(2)?)?;
    Ok(Reply::no_content())
}
