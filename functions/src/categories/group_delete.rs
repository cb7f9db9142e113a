//! `DELETE /category-groups/{category_group_id}`: only an empty group (409 while it has
//! categories). `If-Match` honoured. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::CategoryGroupId;
use shared::http::{ApiError, Reply, Route, bearer};
use shared::version::{self, Precondition};

use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("DELETE", "/category-groups/{category_group_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Delete an empty category group")
        .answers_nothing(204, "Deleted.")
        .if_match()
        .problem(409, "The group still has categories.")
}

static DELETE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT id FROM category_groups WHERE id = :group_id AND household_id = :household_id), \
         used AS (SELECT count(*) AS n FROM categories \
                  WHERE household_id = :household_id AND category_group_id = :group_id), \
         gone AS ( \
           DELETE FROM category_groups g \
           WHERE g.id = :group_id AND g.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
             AND (SELECT n FROM used) = 0 AND {matches} \
           RETURNING g.id) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM target), (SELECT n FROM used), \
                EXISTS (SELECT 1 FROM gone)) {ANSWER}",
        matches = version::matches("g"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let group = ROUTE.id(&request, "category_group_id", CategoryGroupId::parse)?;
    let params = access::caller(
        &claims,
        [param("group_id", &group), Precondition::of(&request).param()],
    );
    let rows = access::answer(&app.db.execute(&DELETE, params).await?)?;
    let (row, _) = access::member_row(&rows)?;
    let (exists, categories, gone): (bool, i64, bool) = (row.get(1)?, row.get(2)?, row.get(3)?);
    let not_empty = (categories > 0).then(|| {
        ApiError::Conflict(format!(
            "The group still has {categories} categories; move or delete them first."
        ))
    });
    access::written(exists, not_empty, gone)?;
    Ok(Reply::no_content())
}
