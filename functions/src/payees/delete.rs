//! `DELETE /payees/{payee_id}`: the payee goes; its transactions keep their amounts and lose the
//! payee, in the same statement. Not a transfer payee (409). `If-Match` honoured. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Serialize;
use shared::db::param;
use shared::domain::PayeeId;
use shared::http::{ApiError, Reply, Route, bearer};
use shared::version::{self, Precondition};

use super::TRANSFER_PAYEE;
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("DELETE", "/payees/{payee_id}");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Delete a payee; its transactions keep their amounts and lose the payee",
    )
    .answers::<Deleted>(200, "Deleted, and how many transactions no longer name it.")
    .if_match()
    .problem(
        409,
        "This is an account's transfer payee; it goes with the account.",
    )
}

static DELETE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT transfer_account_id IS NOT NULL AS transfer FROM payees \
                    WHERE id = :payee_id AND household_id = :household_id), \
         allowed AS (SELECT p.id FROM payees p \
                     WHERE p.id = :payee_id AND p.household_id = :household_id AND p.transfer_account_id IS NULL \
                       AND EXISTS (SELECT 1 FROM me) AND {matches}), \
         unlinked AS ( \
           UPDATE transactions t SET payee_id = NULL, {bump} \
           WHERE t.household_id = :household_id AND t.payee_id IN (SELECT id FROM allowed) \
           RETURNING t.id), \
         {schedules}, \
         gone AS (DELETE FROM payees p WHERE p.id IN (SELECT id FROM allowed) RETURNING p.id) \
         , answer AS (SELECT (SELECT role FROM caller), (SELECT transfer FROM target), EXISTS (SELECT 1 FROM gone), \
                (SELECT count(*) FROM unlinked)) {ANSWER}",
        matches = version::matches("p"),
        bump = version::BUMP,
        schedules = crate::scheduled::cleared_from_schedules("payee_id"),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = PayeeDeleted)]
struct Deleted {
    /// Transactions that named the payee and now name none.
    transactions_unlinked: i64,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let payee = ROUTE.id(&request, "payee_id", PayeeId::parse)?;
    let params = access::caller(
        &claims,
        [param("payee_id", &payee), Precondition::of(&request).param()],
    );
    let rows = access::answer(&app.db.execute(&DELETE, params).await?)?;
    let (row, _) = access::member_row(&rows)?;
    let transfer: Option<bool> = row.get(1)?;
    let gone: bool = row.get(2)?;
    let transfer_payee = (transfer == Some(true)).then(|| ApiError::Conflict(TRANSFER_PAYEE.to_owned()));
    access::written(transfer.is_some(), transfer_payee, gone)?;
    Ok(Reply::ok(&Deleted {
        transactions_unlinked: row.get(3)?,
    }))
}
