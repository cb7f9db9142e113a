//! `GET /payees`: the household's payees by name, transfer payees with their account. One Data
//! API call.

use std::sync::LazyLock;

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, Payee};
use crate::access::{self, ME};
use crate::app::App;
use crate::http::respond as glue;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/payees");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "The household's payees, transfer payees included").answers::<Payees>(200, "Every payee.")
}

static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM me), {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN payees p ON p.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
         ORDER BY p.name, p.id"
    )
});

#[derive(Serialize, utoipa::ToSchema)]
struct Payees {
    payees: Vec<Payee>,
}

pub async fn respond(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    glue(app, ROUTE, request, handle).await
}

async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let params = access::caller(&claims, []);
    let rows = app.db.execute(&LIST, params).await?;
    access::member_row(&rows)?;
    let mut payees = Vec::new();
    for row in rows.iter() {
        let id: Option<String> = row.get(1)?;
        if id.is_some() {
            payees.push(Payee::from_row(&row, 1)?);
        }
    }
    Ok(Reply::ok(&Payees { payees }))
}
