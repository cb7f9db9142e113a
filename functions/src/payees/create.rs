//! `POST /payees` {name}: 201; 409 when the name is taken or the household has
//! [`MAX_PAYEES`](super::MAX_PAYEES). One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::PayeeId;
use shared::http::{ApiError, Reply, Route, bearer, json_body};

use super::{COLUMNS, MAX_PAYEES, NameBody, Payee, parse_name, write_error};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("POST", "/payees");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Add a payee")
        .body::<super::NameBody>(json!({"name": "Corner Shop"}))
        .answers::<super::Payee>(201, "The payee.")
        .etag()
        .problem(
            409,
            "A payee of this name exists, or the household has as many payees as it may.",
        )
}

static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         existing AS (SELECT count(*) AS n FROM payees WHERE household_id = :household_id), \
         created AS ( \
           INSERT INTO payees (id, household_id, name) \
           SELECT :payee_id, :household_id, :name \
           WHERE EXISTS (SELECT 1 FROM me) AND (SELECT n FROM existing) < {MAX_PAYEES} \
           RETURNING *) \
         , answer AS (SELECT (SELECT role FROM caller), {COLUMNS} FROM (SELECT 1) AS one LEFT JOIN created p ON true) {ANSWER}"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let body: NameBody = json_body(&request)?;
    let name = parse_name(&body.name)?;
    let params = access::caller(
        &claims,
        [param("payee_id", &PayeeId::new()), param("name", &name)],
    );
    let rows = access::answer(&app.db.execute(&CREATE, params).await.map_err(write_error)?)?;
    let (row, _) = access::member_row(&rows)?;
    let id: Option<String> = row.get(1)?;
    if id.is_none() {
        return Err(ApiError::Conflict(format!(
            "The household already has {MAX_PAYEES} payees, the most it can have; delete unused ones first."
        )));
    }
    let payee = Payee::from_row(&row, 1)?;
    let version = payee.version;
    Ok(Reply::created(&payee).with_version(version))
}
