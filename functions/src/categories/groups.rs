//! `GET /category-groups` (`?include_hidden=true`): the groups, each with its categories, ordered
//! by sort_order then name; hidden groups and categories only when asked. With
//! `?last_knowledge_of_server=N` the groups in which anything changed after N, each whole (all its
//! categories, hidden ones included: replace your copy of the group), and tombstones of deleted
//! groups. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Serialize;
use shared::db::param;
use shared::http::{ApiError, Reply, Route, bearer, query_flag};

use super::{COLUMNS, Category, GROUP_COLUMNS, Group};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;
use crate::sync::{self, Change, Knowledge};

pub const ROUTE: Route = Route::new("GET", "/category-groups");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "The category groups, each with its categories")
        .about("A delta read returns each group in which anything changed whole, with all its categories (hidden ones included): replace your copy of the group.")
        .delta()
        .query(
            "include_hidden",
            "Also the hidden groups and categories (a delta read always includes them).",
            serde_json::json!({"type": "boolean"}),
        )
        .answers::<Groups>(200, "The groups and their categories, in their sort order.")
}

/// One row per category (or per group without one), in the order the API lists them.
static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {sync}, {GROUP_COLUMNS}, {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN category_groups g ON g.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
              AND (:include_hidden OR :known::bigint IS NOT NULL OR NOT g.hidden) AND {changed} \
         LEFT JOIN categories c ON c.household_id = g.household_id AND c.category_group_id = g.id \
              AND (:include_hidden OR :known::bigint IS NOT NULL OR NOT c.hidden) \
         ORDER BY g.sort_order, g.name, g.id, c.sort_order, c.name, c.id",
        sync = sync::columns("category_groups"),
        changed = sync::changed("g"),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CategoryGroups)]
struct Groups {
    category_groups: Vec<Change<Group>>,
    server_knowledge: i64,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let include_hidden = query_flag(&request, "include_hidden")?;
    let since = sync::since(&request)?;
    let params = access::caller(
        &claims,
        [param("include_hidden", &include_hidden), sync::param_since(since)],
    );
    let rows = app.db.execute(&LIST, params).await?;
    let (first, _) = access::member_row(&rows)?;
    let knowledge = Knowledge::read(&first, 1, since)?;
    let mut groups: Vec<Group> = Vec::new();
    for row in rows.iter() {
        let group_id: Option<String> = row.get(3)?;
        if group_id.is_none() {
            continue;
        }
        let mut group = Group::from_row(&row, 3)?;
        if groups.last().is_none_or(|last| last.id != group.id) {
            group.categories = Some(Vec::new());
            groups.push(group);
        }
        let category_id: Option<String> = row.get(8)?;
        if category_id.is_some()
            && let Some(categories) = groups.last_mut().and_then(|g| g.categories.as_mut())
        {
            categories.push(Category::from_row(&row, 8)?);
        }
    }
    Ok(Reply::ok(&Groups {
        category_groups: knowledge.with_tombstones(groups),
        server_knowledge: knowledge.server_knowledge,
    }))
}
