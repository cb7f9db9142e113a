//! `DELETE /accounts/{account_id}`: only an account that never had a transaction (409 otherwise:
//! close it instead, which keeps its history). Its transfer payee goes with it. `If-Match`
//! honoured. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::{DbError, param};
use shared::domain::AccountId;
use shared::http::{ApiError, Reply, Route, bearer};
use shared::version::{self, Precondition};

use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("DELETE", "/accounts/{account_id}");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Delete an account that has no transactions (close it otherwise)",
    )
    .answers_nothing(204, "Deleted.")
    .if_match()
    .problem(409, "The account has transactions; close it instead.")
}

static DELETE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT id FROM accounts WHERE id = :account_id AND household_id = :household_id), \
         used AS (SELECT EXISTS (SELECT 1 FROM transactions \
                                 WHERE household_id = :household_id AND account_id = :account_id) \
                      OR EXISTS (SELECT 1 FROM scheduled_transactions WHERE household_id = :household_id \
                                 AND :account_id IN (account_id, transfer_account_id)) AS yes), \
         gone AS ( \
           DELETE FROM accounts a \
           WHERE a.id = :account_id AND a.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
             AND NOT (SELECT yes FROM used) AND {matches} \
           RETURNING a.id) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM target), (SELECT yes FROM used), \
                EXISTS (SELECT 1 FROM gone)) {ANSWER}",
        matches = version::matches("a"),
    )
});

const HAS_TRANSACTIONS: &str = "The account has transactions or scheduled transactions, so deleting it would lose money history; close it instead (PATCH with \"closed\": true).";

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let account = ROUTE.id(&request, "account_id", AccountId::parse)?;
    let params = access::caller(
        &claims,
        [param("account_id", &account), Precondition::of(&request).param()],
    );
    let rows = app
        .db
        .execute(&DELETE, params)
        .await
        .map_err(|error| match error {
            // A transaction elsewhere still names its transfer payee.
            DbError::Database { sql_state, .. } if sql_state == "23503" => {
                ApiError::Conflict(HAS_TRANSACTIONS.to_owned())
            }
            other => other.into(),
        })?;
    let rows = access::answer(&rows)?;
    let (row, _) = access::member_row(&rows)?;
    let (exists, used, gone): (bool, bool, bool) = (row.get(1)?, row.get(2)?, row.get(3)?);
    let used = used.then(|| ApiError::Conflict(HAS_TRANSACTIONS.to_owned()));
    access::written(exists, used, gone)?;
    Ok(Reply::no_content())
}
