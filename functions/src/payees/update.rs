//! `PATCH /payees/{payee_id}` {name}: rename a payee (not a transfer payee: 409). `If-Match`
//! honoured. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::PayeeId;
use shared::http::{ApiError, Reply, Route, bearer, json_body};
use shared::version::{self, Precondition};

use super::{COLUMNS, NameBody, Payee, TRANSFER_PAYEE, parse_name, write_error};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("PATCH", "/payees/{payee_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Rename a payee")
        .body::<super::NameBody>(json!({"name": "The Corner Shop"}))
        .answers::<super::Payee>(200, "The payee as it is now.")
        .etag()
        .if_match()
        .problem(
            409,
            "A payee of this name exists, or this is an account's transfer payee (rename the account).",
        )
}

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT transfer_account_id IS NOT NULL AS transfer FROM payees \
                    WHERE id = :payee_id AND household_id = :household_id), \
         changed AS ( \
           UPDATE payees p SET name = :name, {bump} \
           WHERE p.id = :payee_id AND p.household_id = :household_id AND p.transfer_account_id IS NULL \
             AND EXISTS (SELECT 1 FROM me) AND {matches} \
           RETURNING p.*) \
         , answer AS (SELECT (SELECT role FROM caller), (SELECT transfer FROM target), {COLUMNS} \
         FROM (SELECT 1) AS one LEFT JOIN changed p ON true) {ANSWER}",
        bump = version::BUMP,
        matches = version::matches("p"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let payee = ROUTE.id(&request, "payee_id", PayeeId::parse)?;
    let body: NameBody = json_body(&request)?;
    let name = parse_name(&body.name)?;
    let params = access::caller(
        &claims,
        [
            param("payee_id", &payee),
            param("name", &name),
            Precondition::of(&request).param(),
        ],
    );
    let rows = access::answer(&app.db.execute(&UPDATE, params).await.map_err(write_error)?)?;
    let (row, _) = access::member_row(&rows)?;
    let transfer: Option<bool> = row.get(1)?;
    let changed: Option<String> = row.get(2)?;
    let transfer_payee = (transfer == Some(true)).then(|| ApiError::Conflict(TRANSFER_PAYEE.to_owned()));
    access::written(transfer.is_some(), transfer_payee, changed.is_some())?;
    Ok(Payee::from_row(&row, 2)?.reply())
}
