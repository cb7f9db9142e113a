//! `DELETE /categories/{category_id}`: its transactions become uncategorised and its budget
//! allocations go, in the same statement; answers how many of each. `If-Match` honoured. One
//! Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Serialize;
use shared::db::param;
use shared::domain::CategoryId;
use shared::http::{ApiError, Reply, Route, bearer};
use shared::version::{self, Precondition};

use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("DELETE", "/categories/{category_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Delete a category; its transactions become uncategorised")
        .answers::<Deleted>(200, "Deleted, with what changed because of it.")
        .if_match()
}

static DELETE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT id FROM categories WHERE id = :category_id AND household_id = :household_id), \
         allowed AS (SELECT c.id FROM categories c \
                     WHERE c.id = :category_id AND c.household_id = :household_id \
                       AND EXISTS (SELECT 1 FROM me) AND {matches}), \
         uncategorised AS ( \
           UPDATE transactions t SET category_id = NULL, {bump} \
           WHERE t.household_id = :household_id AND t.category_id IN (SELECT id FROM allowed) \
           RETURNING t.id), \
         {schedules}, \
         allocations AS ( \
           DELETE FROM budget_allocations b \
           WHERE b.household_id = :household_id AND b.category_id IN (SELECT id FROM allowed) \
           RETURNING b.id), \
         gone AS (DELETE FROM categories c WHERE c.id IN (SELECT id FROM allowed) RETURNING c.id) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM target), EXISTS (SELECT 1 FROM gone), \
                (SELECT count(*) FROM uncategorised), (SELECT count(*) FROM allocations)) {ANSWER}",
        matches = version::matches("c"),
        bump = version::BUMP,
        schedules = crate::scheduled::cleared_from_schedules("category_id"),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CategoryDeleted)]
struct Deleted {
    /// Transactions that had the category and now have none.
    transactions_uncategorised: i64,
    /// Monthly budget allocations of the category, removed.
    budget_allocations_removed: i64,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let category = ROUTE.id(&request, "category_id", CategoryId::parse)?;
    let params = access::caller(
        &claims,
        [
            param("category_id", &category),
            Precondition::of(&request).param(),
        ],
    );
    let rows = access::answer(&app.db.execute(&DELETE, params).await?)?;
    let (row, _) = access::member_row(&rows)?;
    access::written(row.get(1)?, None, row.get(2)?)?;
    Ok(Reply::ok(&Deleted {
        transactions_uncategorised: row.get(3)?,
        budget_allocations_removed: row.get(4)?,
    }))
}
