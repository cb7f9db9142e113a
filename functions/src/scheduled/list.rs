//! `GET /scheduled-transactions`: the household's schedules, by next date (ended ones last), each
//! with its next dates. With `?last_knowledge_of_server=N`, only those changed after N, deleted
//! ones included (`deleted: true`). One Data API call.
//!
//! A household keeps few schedules (bills and income), so one answer holds them all: a schedule's
//! row is at most about 40 KB (25 lines with 500-character memos), and [`MAX_SCHEDULES`] of them
//! would still fit the Data API's 1 MiB only with short memos, so the list stops there and says so.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Serialize;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, JOINS, ScheduledTransaction};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;
use crate::sync::{self, Knowledge};

pub const ROUTE: Route = Route::new("GET", "/scheduled-transactions");

/// The most schedules one answer lists.
pub const MAX_SCHEDULES: i64 = 200;

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "The household's scheduled transactions, with their next dates",
    )
    .delta()
    .answers::<Schedules>(200, "The scheduled transactions.")
}

static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {sync}, {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN scheduled_transactions s ON s.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
              AND (:known::bigint IS NOT NULL OR s.deleted_at IS NULL) AND {changed} \
         {JOINS} \
         ORDER BY s.date_next NULLS LAST, s.id LIMIT {MAX_SCHEDULES}",
        sync = sync::columns("scheduled_transactions"),
        changed = sync::changed("s"),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
struct Schedules {
    scheduled_transactions: Vec<ScheduledTransaction>,
    server_knowledge: i64,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let since = sync::since(&request)?;
    let params = access::caller(&claims, [sync::param_since(since)]);
    let rows = app.db.execute(&LIST, params).await?;
    let (first, _) = access::member_row(&rows)?;
    let knowledge = Knowledge::read(&first, 1, since)?;
    let mut schedules = Vec::new();
    for row in rows.iter() {
        if row.get::<Option<String>>(3)?.is_some() {
            schedules.push(ScheduledTransaction::from_row(&row, 3)?);
        }
    }
    Ok(Reply::ok(&Schedules {
        scheduled_transactions: schedules,
        server_knowledge: knowledge.server_knowledge,
    }))
}
