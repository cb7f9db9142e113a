//! `PUT /months/{month}/categories/{category_id}` {assigned}: sets what is assigned to a category
//! in a month (past, current or future) and answers that category's figures for the month with
//! the month's money left to assign. One Data API call: the write and the figures as they are
//! after it.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::{Deserialize, Serialize};
use shared::db::param;
use shared::domain::{BudgetAllocationId, CategoryId, Month, Total};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};

use super::{CATEGORY_COLUMNS, CATEGORY_JOINS, CategoryMonth, MONTH_SUMMARY, figures};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;
use shared::domain::amount;

pub const ROUTE: Route = Route::new("PUT", "/months/{month}/categories/{category_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Assign money to a category in a month (future months too)")
        .body::<AssignBody>(json!({"assigned": 60_000}))
        .answers::<Assigned>(
            200,
            "The category's figures for the month, and the month's ready to assign.",
        )
}

/// The assignments as they are once this write is done: the stored ones, with this category's
/// month replaced.
const AFTER_WRITE: &str = "SELECT category_id, month, assigned FROM budget_allocations \
     WHERE household_id = :household_id AND month <= :until::date AND EXISTS (SELECT 1 FROM me) \
       AND NOT (category_id = :category_id AND month = :until::date) \
     UNION ALL SELECT id, :until::date, :assigned::bigint FROM target";

static ASSIGN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT id FROM categories \
                    WHERE id = :category_id AND household_id = :household_id AND EXISTS (SELECT 1 FROM me)), \
         written AS ( \
           INSERT INTO budget_allocations (id, household_id, category_id, month, assigned) \
           SELECT :allocation_id, :household_id, id, :until, :assigned FROM target \
           ON CONFLICT (category_id, month) \
             DO UPDATE SET assigned = EXCLUDED.assigned, updated_at = clock_timestamp() \
           RETURNING id), \
         {figures}, {MONTH_SUMMARY} \
         , answer AS (SELECT (SELECT role FROM caller), s.ready_to_assign, {CATEGORY_COLUMNS} \
         FROM summary s \
         LEFT JOIN categories c ON c.id IN (SELECT id FROM target) \
         {CATEGORY_JOINS}) {ANSWER}",
        figures = figures(AFTER_WRITE),
    )
});

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Assignment)]
struct AssignBody {
    #[schema(value_type = shared::domain::Milliunits)]
    assigned: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AssignedInMonth)]
struct Assigned {
    month: Month,
    #[serde(flatten)]
    category: CategoryMonth,
    ready_to_assign: Total,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let month = ROUTE.id(&request, "month", super::month)?;
    let category = ROUTE.id(&request, "category_id", CategoryId::parse)?;
    let body: AssignBody = json_body(&request)?;
    let mut fields = Fields::default();
    let assigned = fields.check("assigned", amount(body.assigned));
    fields.finish()?;
    let Some(assigned) = assigned else {
        return Err(ApiError::Internal("validated amount missing".to_owned()));
    };
    let params = access::caller(
        &claims,
        [
            param("until", &month),
            param("category_id", &category),
            param("assigned", &assigned),
            param("allocation_id", &BudgetAllocationId::new()),
        ],
    );
    let rows = access::answer(&app.db.execute(&ASSIGN, params).await?)?;
    let (row, _) = access::member_row(&rows)?;
    if row.get::<Option<String>>(2)?.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(Reply::ok(&Assigned {
        month,
        ready_to_assign: row.get(1)?,
        category: CategoryMonth::from_row(&row, 2)?,
    }))
}
