//! `GET /transactions`: the household's transactions, newest first (date, then id), filtered by
//! `account_id`, `category_id` (a split matches through its lines), `payee_id`, `since`, `until`,
//! `cleared`, and with `include_deleted=true` the tombstones too. Keyset pagination: `limit`
//! (1–500, default 100) and the `next_cursor` of the previous page. One Data API call per page.
//!
//! With `?last_knowledge_of_server=N`, only the transactions changed after N (deleted ones as
//! tombstones, `deleted: true`): written themselves, or one of their split lines, or their payee
//! (its name is part of the answer). Every page of one walk answers the `server_knowledge` of its
//! first page (the cursor carries it), the number to send next time.
//!
//! The cursor is only a position (a date and an id); every page is read within the caller's
//! household, so a cursor made up or taken from another household can only skip within one's own.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use lambda_http::{Request, RequestExt};
use serde::Serialize;
use shared::db::param;
use shared::domain::{AccountId, CategoryId, Cleared, PayeeId, SqlEnum, TransactionId};
use shared::http::{ApiError, Fields, Reply, Route, bearer, query_flag};

use super::{COLUMNS, JOINS, Transaction};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;
use crate::sync;
use serde_json::json;

pub const ROUTE: Route = Route::new("GET", "/transactions");

pub fn doc() -> Doc {
    let id = json!({"type": "string", "format": "uuid"});
    let date = json!({"type": "string", "format": "date"});
    Doc::new(ROUTE, "Transactions, newest first, a page at a time")
        .about("Follow `next_cursor` (as `cursor`) until it is null; every transaction comes exactly once.")
        .query("account_id", "Only this account's.", id.clone())
        .query(
            "category_id",
            "Only this category's (a split through its lines).",
            id.clone(),
        )
        .query("payee_id", "Only this payee's.", id)
        .query("since", "Only from this date on.", date.clone())
        .query("until", "Only up to this date.", date)
        .query(
            "cleared",
            "Only in this cleared state.",
            crate::openapi::doc::inline::<Cleared>(),
        )
        .query(
            "include_deleted",
            "Also the deleted ones (`deleted: true`), for sync.",
            json!({"type": "boolean"}),
        )
        .query(
            "limit",
            "At most this many (default 100).",
            json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
        )
        .query(
            "cursor",
            "The `next_cursor` of the page before.",
            json!({"type": "string"}),
        )
        .delta()
        .answers::<Page>(200, "A page; it may stop early to stay under 1 MiB.")
}

pub const DEFAULT_LIMIT: i64 = 100;
/// A page of this many transactions, every memo at its 500 characters, stays under the Data API's
/// 1 MiB response limit (a test fills one).
pub const MAX_LIMIT: i64 = 500;

/// A page stops early, before this many bytes of response (an estimate on the generous side of
/// each row's share of the Data API's JSON), so that long memos and splits never take it over the
/// 1 MiB limit; its `next_cursor` then goes on from there.
const PAGE_BUDGET_BYTES: i64 = 900_000;

static PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         matching AS ( \
           SELECT t.*, count(*) OVER () AS fetched, \
                  sum(1100 + octet_length(COALESCE(t.memo, '')) + octet_length(COALESCE(t.import_id, '')) \
                      + (SELECT COALESCE(sum(300 + 2 * octet_length(COALESCE(l.memo, ''))), 0) \
                         FROM transactions l WHERE l.household_id = t.household_id AND l.parent_id = t.id)) \
                    OVER (ORDER BY t.date DESC, t.id DESC) AS running_bytes \
           FROM (SELECT * FROM transactions t \
                 WHERE t.household_id = :household_id AND EXISTS (SELECT 1 FROM me) AND t.parent_id IS NULL \
                   AND (:account_id::uuid IS NULL OR t.account_id = :account_id::uuid) \
                   AND (:payee_id::uuid IS NULL OR t.payee_id = :payee_id::uuid) \
                   AND (:category_id::uuid IS NULL OR t.category_id = :category_id::uuid \
                        OR EXISTS (SELECT 1 FROM transactions l WHERE l.household_id = :household_id \
                                   AND l.parent_id = t.id AND l.category_id = :category_id::uuid \
                                   AND l.deleted_at IS NOT DISTINCT FROM t.deleted_at)) \
                   AND (:since::date IS NULL OR t.date >= :since::date) \
                   AND (:until::date IS NULL OR t.date <= :until::date) \
                   AND (:cleared::text IS NULL OR t.cleared = :cleared::text) \
                   AND (:include_deleted OR :known::bigint IS NOT NULL OR t.deleted_at IS NULL) \
                   AND (:known::bigint IS NULL OR t.knowledge > :known::bigint \
                        OR EXISTS (SELECT 1 FROM transactions l WHERE l.household_id = :household_id \
                                   AND l.parent_id = t.id AND l.knowledge > :known::bigint) \
                        OR EXISTS (SELECT 1 FROM payees p WHERE p.household_id = :household_id \
                                   AND p.id = t.payee_id AND p.knowledge > :known::bigint)) \
                   AND (:after_date::date IS NULL OR (t.date, t.id) < (:after_date::date, :after_id::uuid)) \
                 ORDER BY t.date DESC, t.id DESC \
                 LIMIT :fetch) AS t) \
         SELECT (SELECT role FROM caller), (SELECT server_knowledge FROM households WHERE id = :household_id), \
                t.fetched, {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN matching t ON t.running_bytes <= {PAGE_BUDGET_BYTES} \
         {JOINS} \
         ORDER BY t.date DESC, t.id DESC"
    )
});

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TransactionPage)]
struct Page {
    transactions: Vec<Transaction>,
    next_cursor: Option<String>,
    /// The household's server knowledge when the first page of this walk was read.
    server_knowledge: i64,
}

/// Where the previous page ended, and the server knowledge of the walk's first page.
struct Cursor {
    date: NaiveDate,
    id: TransactionId,
    knowledge: i64,
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}|{}", self.date, self.id, self.knowledge))
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('|');
        let cursor = Self {
            date: parts.next()?.parse().ok()?,
            id: TransactionId::parse(parts.next()?).ok()?,
            knowledge: parts.next()?.parse().ok().filter(|k: &i64| *k >= 0)?,
        };
        parts.next().is_none().then_some(cursor)
    }
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let query = request.query_string_parameters();
    let text = |name: &str| query.first(name).map(str::to_owned);
    let mut fields = Fields::default();
    let account = text("account_id").and_then(|t| fields.check("account_id", AccountId::parse(&t)));
    let category = text("category_id").and_then(|t| fields.check("category_id", CategoryId::parse(&t)));
    let payee = text("payee_id").and_then(|t| fields.check("payee_id", PayeeId::parse(&t)));
    let mut date = |name: &str| text(name).and_then(|t| fields.check(name, shared::domain::date(&t)));
    let (since, until) = (date("since"), date("until"));
    let cleared = text("cleared").and_then(|t| fields.check("cleared", Cleared::parse(&t)));
    let limit = match text("limit").map(|t| t.parse::<i64>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            fields.reject("limit", "must be a whole number from 1 to 500");
            DEFAULT_LIMIT
        }
    };
    let cursor = text("cursor").and_then(|t| {
        let cursor = Cursor::decode(&t);
        if cursor.is_none() {
            fields.reject("cursor", "is not a cursor this API gave");
        }
        cursor
    });
    let include_deleted = query_flag(&request, "include_deleted")?;
    let known = sync::since(&request);
    fields.finish()?;
    let known = known?;

    let params = access::caller(
        &claims,
        [
            param("account_id", &account),
            param("category_id", &category),
            param("payee_id", &payee),
            param("since", &since),
            param("until", &until),
            param("cleared", &cleared),
            param("include_deleted", &include_deleted),
            sync::param_since(known),
            param("after_date", &cursor.as_ref().map(|c| c.date)),
            param("after_id", &cursor.as_ref().map(|c| c.id)),
            // One more than the page: whether another page follows.
            param("fetch", &(limit + 1)),
        ],
    );
    let rows = app.db.execute(&PAGE, params).await?;
    let (first, _) = access::member_row(&rows)?;
    let now_known: i64 = first.get(1)?;
    sync::ahead(known, now_known)?;
    let server_knowledge = cursor.as_ref().map_or(now_known, |c| c.knowledge.min(now_known));
    let mut transactions = Vec::new();
    let mut fetched = 0;
    for row in rows.iter() {
        if let Some(count) = row.get::<Option<i64>>(2)? {
            fetched = count;
            transactions.push(Transaction::from_row(&row, 3)?);
        }
    }
    transactions.truncate(usize::try_from(limit).unwrap_or(0));
    // Rows were left for another page: the one fetched beyond the limit, or those over the budget.
    let more = fetched > transactions.len() as i64;
    let next_cursor = match transactions.last() {
        Some(last) if more => Some(
            Cursor {
                date: last.date,
                id: last.id,
                knowledge: server_knowledge,
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(Reply::ok(&Page {
        transactions,
        next_cursor,
        server_knowledge,
    }))
}
