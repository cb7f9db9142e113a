//! `GET /scheduled-transactions`: the household's schedules (at most [`super::MAX_SCHEDULES`]),
//! each with its next dates, oldest first. With `?last_knowledge_of_server=N`, only those changed
//! after N, deleted ones included (`deleted: true`). One Data API call per page.
//!
//! A page stops before [`PAGE_BUDGET_BYTES`] of answer (a generous estimate per schedule and line),
//! so that schedules with long memos and many lines never take it over the Data API's 1 MiB; then
//! `next_cursor` goes on from there, and every page of one walk answers the `server_knowledge` of
//! its first page (the cursor carries it).

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::{Request, RequestExt};
use serde::Serialize;
use shared::db::param;
use shared::domain::ScheduledTransactionId;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, JOINS, ScheduledTransaction};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;
use crate::sync;

pub const ROUTE: Route = Route::new("GET", "/scheduled-transactions");

/// A page stops before this many bytes of answer.
const PAGE_BUDGET_BYTES: i64 = 900_000;

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "The household's scheduled transactions, with their next dates",
    )
    .about("Follow `next_cursor` (as `cursor`) until it is null; a page stops early to stay under 1 MiB.")
    .query(
        "cursor",
        "The `next_cursor` of the page before.",
        serde_json::json!({"type": "string"}),
    )
    .delta()
    .answers::<Schedules>(200, "A page of scheduled transactions.")
}

static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         matching AS ( \
           SELECT s.*, count(*) OVER () AS fetched, \
                  sum(1500 + 2 * octet_length(COALESCE(s.memo, '')) \
                      + (SELECT COALESCE(sum(300 + 2 * octet_length(COALESCE(l.memo, ''))), 0) \
                         FROM scheduled_lines l WHERE l.household_id = s.household_id AND l.schedule_id = s.id)) \
                    OVER (ORDER BY s.id) AS running_bytes \
           FROM scheduled_transactions s \
           WHERE s.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
             AND (:known::bigint IS NOT NULL OR s.deleted_at IS NULL) AND {changed} \
             AND (:after::uuid IS NULL OR s.id > :after::uuid)) \
         SELECT (SELECT role FROM caller), (SELECT server_knowledge FROM households WHERE id = :household_id), \
                s.fetched, {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN matching s ON s.running_bytes <= {PAGE_BUDGET_BYTES} \
         {JOINS} \
         ORDER BY s.id",
        changed = sync::changed("s"),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ScheduledTransactionPage)]
struct Schedules {
    scheduled_transactions: Vec<ScheduledTransaction>,
    next_cursor: Option<String>,
    /// The household's server knowledge when the first page of this walk was read.
    server_knowledge: i64,
}

/// Where the previous page ended, and the server knowledge of the walk's first page.
struct Cursor {
    after: ScheduledTransactionId,
    knowledge: i64,
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.after, self.knowledge))
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (after, knowledge) = text.split_once('|')?;
        Some(Self {
            after: ScheduledTransactionId::parse(after).ok()?,
            knowledge: knowledge.parse().ok().filter(|k: &i64| *k >= 0)?,
        })
    }
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let since = sync::since(&request)?;
    let cursor = match request.query_string_parameters().first("cursor") {
        None => None,
        Some(text) => Some(
            Cursor::decode(text)
                .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API gave"))?,
        ),
    };
    let params = access::caller(
        &claims,
        [
            sync::param_since(since),
            param("after", &cursor.as_ref().map(|c| c.after)),
        ],
    );
    let rows = app.db.execute(&LIST, params).await?;
    let (first, _) = access::member_row(&rows)?;
    let now_known: i64 = first.get(1)?;
    sync::ahead(since, now_known)?;
    let server_knowledge = cursor.as_ref().map_or(now_known, |c| c.knowledge.min(now_known));
    let mut schedules = Vec::new();
    let mut fetched = 0;
    for row in rows.iter() {
        if let Some(count) = row.get::<Option<i64>>(2)? {
            fetched = count;
            schedules.push(ScheduledTransaction::from_row(&row, 3)?);
        }
    }
    let next_cursor = match schedules.last() {
        Some(last) if fetched > schedules.len() as i64 => Some(
            Cursor {
                after: last.id,
                knowledge: server_knowledge,
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(Reply::ok(&Schedules {
        scheduled_transactions: schedules,
        next_cursor,
        server_knowledge,
    }))
}
