//! `GET /months/{month}`: the month's budget, every category's assigned, activity and available,
//! and the money left to assign; and what the household's schedules will still bring to each
//! category this month (`scheduled`: the occurrences not yet made, as their transactions' budget
//! legs would count, outflows negative), so a member sees what is coming before assigning money. One Data API call, whatever
//! the history.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Serialize;
use shared::db::param;
use shared::domain::schedule::occurrence_sql;
use shared::domain::{Month, Total};
use shared::http::{ApiError, Reply, Route, bearer};

use super::{CATEGORY_COLUMNS, CATEGORY_JOINS, CategoryMonth, MONTH_SUMMARY, STORED_ALLOCATIONS, figures};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/months/{month}");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "A month's budget: ready to assign, and each category's assigned, activity and available",
    )
    .about(
        "Available rolls over while positive; an overspent category starts the next month at \
             zero and the overspending is taken from that month's ready to assign.",
    )
    .answers::<MonthBudget>(200, "The month.")
}

/// One row per category (ordered as the category list is), each with the month's summary.
static MONTH: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, {figures}, {MONTH_SUMMARY}, \
         scheduled AS ( \
           SELECT COALESCE(l.category_id, s.category_id) AS category_id, \
                  sum(CASE WHEN a.on_budget THEN COALESCE(l.amount, s.amount) ELSE -s.amount END) AS amount \
           FROM scheduled_transactions s JOIN accounts a ON a.id = s.account_id \
           LEFT JOIN accounts ta ON ta.id = s.transfer_account_id \
           CROSS JOIN LATERAL (SELECT k, {occurrence} AS date FROM generate_series(s.next_occurrence, \
             s.next_occurrence + ((:until::date + interval '1 month')::date - s.date_next)) AS k) AS o \
           LEFT JOIN scheduled_lines l ON l.household_id = s.household_id AND l.schedule_id = s.id \
           WHERE s.household_id = :household_id AND EXISTS (SELECT 1 FROM me) AND s.deleted_at IS NULL \
             AND (a.on_budget AND (ta.id IS NULL OR NOT ta.on_budget) OR NOT a.on_budget AND ta.on_budget) \
             AND a.closed_at IS NULL AND ta.closed_at IS NULL \
             AND s.date_next < (:until::date + interval '1 month')::date \
             AND o.date >= :until::date AND o.date < (:until::date + interval '1 month')::date \
             AND (s.end_date IS NULL OR o.date <= s.end_date) \
             AND (s.end_count IS NULL OR o.k < s.end_count) \
           GROUP BY 1), \
         categorised AS ( \
           SELECT {CATEGORY_COLUMNS}, g.sort_order AS group_order, g.name AS group_name, \
                  c.sort_order, c.name AS category_name, COALESCE(sch.amount, 0) AS scheduled \
           FROM categories c JOIN category_groups g ON g.id = c.category_group_id \
           LEFT JOIN scheduled sch ON sch.category_id = c.id \
           {CATEGORY_JOINS} \
           WHERE c.household_id = :household_id AND EXISTS (SELECT 1 FROM me)) \
         SELECT (SELECT role FROM caller), s.ready_to_assign, s.income, s.overspent_last_month, \
                categorised.* \
         FROM summary s LEFT JOIN categorised ON true \
         ORDER BY group_order, group_name, sort_order, category_name",
        figures = figures(STORED_ALLOCATIONS),
        occurrence = occurrence_sql("s.date_first", "s.frequency", "k"),
    )
});

/// The statement, for `cargo xtask bench` to explain in PostgreSQL.
pub fn statement() -> &'static str {
    &MONTH
}

#[derive(Serialize, utoipa::ToSchema)]
struct MonthBudget {
    month: Month,
    income: Total,
    assigned: Total,
    activity: Total,
    ready_to_assign: Total,
    overspent_last_month: Total,
    /// What the schedules will still bring this month, all categories together.
    scheduled: Total,
    categories: Vec<CategoryInMonth>,
}

/// A category in the month, with what its schedules will still bring.
#[derive(Serialize, utoipa::ToSchema)]
struct CategoryInMonth {
    #[serde(flatten)]
    category: CategoryMonth,
    /// The month's occurrences still to be made, in this category (outflows negative).
    scheduled: Total,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let month = ROUTE.id(&request, "month", super::month)?;
    let params = access::caller(&claims, [param("until", &month)]);
    let rows = app.db.execute(&MONTH, params).await?;
    let (first, _) = access::member_row(&rows)?;
    let mut budget = MonthBudget {
        month,
        income: first.get(2)?,
        assigned: Total::ZERO,
        activity: Total::ZERO,
        ready_to_assign: first.get(1)?,
        overspent_last_month: first.get(3)?,
        scheduled: Total::ZERO,
        categories: Vec::new(),
    };
    for row in rows.iter() {
        if row.get::<Option<String>>(4)?.is_none() {
            continue;
        }
        let category = CategoryMonth::from_row(&row, 4)?;
        let scheduled: Total = row.get(14)?;
        budget.assigned = sum(budget.assigned, category.assigned)?;
        budget.activity = sum(budget.activity, category.activity)?;
        budget.scheduled = sum(budget.scheduled, scheduled)?;
        budget.categories.push(CategoryInMonth { category, scheduled });
    }
    Ok(Reply::ok(&budget))
}

fn sum(a: Total, b: Total) -> Result<Total, ApiError> {
    a.checked_add(b)
        .ok_or_else(|| ApiError::Internal("a month's total overflowed 128 bits".to_owned()))
}
