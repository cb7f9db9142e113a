//! `GET /category-groups/{category_group_id}`: one group with all its categories, hidden ones
//! included (it was asked for by id). One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::CategoryGroupId;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, Category, GROUP_COLUMNS, Group};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/category-groups/{category_group_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "One category group, with its categories")
        .about("Hidden categories included, in their sort order.")
        .answers::<Group>(200, "The group.")
        .etag()
}

/// One row per category of the group (one row with no category when it has none).
static FIND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {GROUP_COLUMNS}, {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN category_groups g ON g.id = :group_id AND g.household_id = :household_id \
              AND EXISTS (SELECT 1 FROM me) \
         LEFT JOIN categories c ON c.household_id = g.household_id AND c.category_group_id = g.id \
         ORDER BY c.sort_order, c.name, c.id"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let group = ROUTE.id(&request, "category_group_id", CategoryGroupId::parse)?;
    let params = access::caller(&claims, [param("group_id", &group)]);
    let rows = app.db.execute(&FIND, params).await?;
    let first = access::found_row(&rows, 1)?;
    let mut group = Group::from_row(&first, 1)?;
    let mut categories = Vec::new();
    for row in rows.iter() {
        let category_id: Option<String> = row.get(6)?;
        if category_id.is_some() {
            categories.push(Category::from_row(&row, 6)?);
        }
    }
    group.categories = Some(categories);
    let version = group.version;
    Ok(Reply::ok(&group).with_version(version))
}
