//! `GET /payees`: the household's payees by name, transfer payees with their account. One Data
//! API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Serialize;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, Payee};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;
use crate::sync::{self, Change, Knowledge};

pub const ROUTE: Route = Route::new("GET", "/payees");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "The household's payees, transfer payees included")
        .delta()
        .answers::<Payees>(200, "The payees.")
}

static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {sync}, {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN payees p ON p.household_id = :household_id AND EXISTS (SELECT 1 FROM me) AND {changed} \
         ORDER BY p.name, p.id",
        sync = sync::columns("payees"),
        changed = sync::changed("p"),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
struct Payees {
    payees: Vec<Change<Payee>>,
    server_knowledge: i64,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let since = sync::since(&request)?;
    let params = access::caller(&claims, [sync::param_since(since)]);
    let rows = app.db.execute(&LIST, params).await?;
    let (first, _) = access::member_row(&rows)?;
    let knowledge = Knowledge::read(&first, 1, since)?;
    let mut payees = Vec::new();
    for row in rows.iter() {
        let id: Option<String> = row.get(3)?;
        if id.is_some() {
            payees.push(Payee::from_row(&row, 3)?);
        }
    }
    Ok(Reply::ok(&Payees {
        payees: knowledge.with_tombstones(payees),
        server_knowledge: knowledge.server_knowledge,
    }))
}
