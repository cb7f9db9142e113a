//! `GET /months`: every month with transactions or assignments, oldest first, each with its
//! income, assigned, activity and money left to assign. One Data API call.
//!
//! Every figure depends on the whole budget (money left to assign carries over), so a delta read
//! (`?last_knowledge_of_server=N`) answers either no months, when nothing changed after N, or all
//! of them, to replace the client's copy.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Serialize;
use shared::db::param;
use shared::domain::{Month, Total};
use shared::http::{ApiError, Reply, Route, bearer};

use super::{STORED_ALLOCATIONS, figures};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;
use crate::sync;

pub const ROUTE: Route = Route::new("GET", "/months");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Every month with transactions or assignments, with its totals",
    )
    .about(
        "A delta read answers no months when nothing changed since, or else all of them: replace your copy.",
    )
    .delta()
    .answers::<Months>(200, "The months, oldest first.")
}

/// The last month any data can fall in (dates end in 2199).
const LAST_MONTH: &str = "2199-12";

static MONTHS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, {figures}, \
         month_income AS (SELECT month, sum(amount) AS income FROM income GROUP BY month), \
         month_budget AS ( \
           SELECT month, sum(assigned) AS assigned, sum(activity) AS activity, \
                  sum(GREATEST(-available, 0)) AS overspent \
           FROM balances GROUP BY month), \
         months AS (SELECT month FROM lines UNION SELECT month FROM allocations), \
         per_month AS ( \
           SELECT m.month, COALESCE(i.income, 0) AS income, COALESCE(b.assigned, 0) AS assigned, \
                  COALESCE(b.activity, 0) AS activity, COALESCE(b.overspent, 0) AS overspent \
           FROM months m LEFT JOIN month_income i USING (month) LEFT JOIN month_budget b USING (month)), \
         known AS (SELECT server_knowledge FROM households WHERE id = :household_id) \
         SELECT (SELECT role FROM caller), (SELECT server_knowledge FROM known), p.month, p.income, p.assigned, p.activity, \
                sum(p.income - p.assigned) OVER (ORDER BY p.month) \
                 - COALESCE(sum(p.overspent) OVER (ORDER BY p.month \
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) \
         FROM (SELECT 1) AS one \
         LEFT JOIN per_month p ON :known::bigint IS NULL OR (SELECT server_knowledge FROM known) > :known::bigint \
         ORDER BY p.month",
        figures = figures(STORED_ALLOCATIONS),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
struct MonthSummary {
    month: Month,
    income: Total,
    assigned: Total,
    activity: Total,
    ready_to_assign: Total,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Months {
    months: Vec<MonthSummary>,
    server_knowledge: i64,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let until = super::month(LAST_MONTH)
        .map_err(|_| ApiError::Internal("the last month does not parse".to_owned()))?;
    let since = sync::since(&request)?;
    let params = access::caller(&claims, [param("until", &until), sync::param_since(since)]);
    let rows = app.db.execute(&MONTHS, params).await?;
    let (first, _) = access::member_row(&rows)?;
    let server_knowledge: i64 = first.get(1)?;
    sync::ahead(since, server_knowledge)?;
    let mut months = Vec::new();
    for row in rows.iter() {
        let Some(month) = row.get::<Option<Month>>(2)? else {
            continue;
        };
        months.push(MonthSummary {
            month,
            income: row.get(3)?,
            assigned: row.get(4)?,
            activity: row.get(5)?,
            ready_to_assign: row.get(6)?,
        });
    }
    Ok(Reply::ok(&Months {
        months,
        server_knowledge,
    }))
}
