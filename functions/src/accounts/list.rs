//! `GET /accounts` (`?include_closed=true`): the household's accounts with their balances, open
//! ones only unless asked, by name. One Data API call.

use std::sync::LazyLock;

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::db::param;
use shared::http::{ApiError, Reply, Route, bearer, query_flag};

use super::{Account, BALANCES, COLUMNS};
use crate::access::{self, ME};
use crate::app::App;
use crate::http::respond as glue;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/accounts");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "The household's accounts, with their balances")
        .answers::<Accounts>(200, "Every account, open and closed.")
}

/// The caller's stored role on every row; one row without an account when there are none.
static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM me), {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN accounts a ON a.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
              AND (:include_closed OR a.closed_at IS NULL) \
         {BALANCES} \
         ORDER BY a.name, a.id"
    )
});

#[derive(Serialize, utoipa::ToSchema)]
struct Accounts {
    accounts: Vec<Account>,
}

pub async fn respond(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    glue(app, ROUTE, request, handle).await
}

async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let include_closed = query_flag(&request, "include_closed")?;
    let params = access::caller(&claims, [param("include_closed", &include_closed)]);
    let rows = app.db.execute(&LIST, params).await?;
    access::member_row(&rows)?;
    let mut accounts = Vec::new();
    for row in rows.iter() {
        let id: Option<String> = row.get(1)?;
        if id.is_some() {
            accounts.push(Account::from_row(&row, 1)?);
        }
    }
    Ok(Reply::ok(&Accounts { accounts }))
}
