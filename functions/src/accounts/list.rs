//! `GET /accounts` (`?include_closed=true`): the household's accounts with their balances, open
//! ones only unless asked, by name. With `?last_knowledge_of_server=N` only the accounts changed
//! after N (a transaction's change counts: it changes the balances), closed ones included, and
//! tombstones of deleted ones. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Serialize;
use shared::db::param;
use shared::http::{ApiError, Reply, Route, bearer, query_flag};

use super::{Account, BALANCES, COLUMNS};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;
use crate::sync::{self, Change, Knowledge};

pub const ROUTE: Route = Route::new("GET", "/accounts");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "The household's accounts, with their balances")
        .delta()
        .query(
            "include_closed",
            "Also the closed accounts (a delta read always includes them).",
            serde_json::json!({"type": "boolean"}),
        )
        .answers::<Accounts>(200, "The accounts.")
}

/// The caller's stored role on every row; one row without an account when there are none.
static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {sync}, {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN accounts a ON a.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
              AND (:include_closed OR :known::bigint IS NOT NULL OR a.closed_at IS NULL) AND {changed} \
         {BALANCES} \
         ORDER BY a.name, a.id",
        sync = sync::columns("accounts"),
        changed = sync::changed("a"),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
struct Accounts {
    accounts: Vec<Change<Account>>,
    server_knowledge: i64,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let include_closed = query_flag(&request, "include_closed")?;
    let since = sync::since(&request)?;
    let params = access::caller(
        &claims,
        [param("include_closed", &include_closed), sync::param_since(since)],
    );
    let rows = app.db.execute(&LIST, params).await?;
    let (first, _) = access::member_row(&rows)?;
    let knowledge = Knowledge::read(&first, 1, since)?;
    let mut accounts = Vec::new();
    for row in rows.iter() {
        let id: Option<String> = row.get(3)?;
        if id.is_some() {
            accounts.push(Account::from_row(&row, 3)?);
        }
    }
    Ok(Reply::ok(&Accounts {
        accounts: knowledge.with_tombstones(accounts),
        server_knowledge: knowledge.server_knowledge,
    }))
}
