//! `POST /category-groups` {name, sort_order?}: 201; 409 when the name is taken or the household
//! has [`MAX_GROUPS`](super::MAX_GROUPS). One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::db::param;
use shared::domain::{CategoryGroupId, Name};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};

use super::{GROUP_COLUMNS, MAX_GROUPS, group_reply, write_error};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("POST", "/category-groups");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Add a category group")
        .body::<CreateBody>(json!({"name": "Bills"}))
        .answers::<super::Group>(201, "The group.")
        .etag()
        .problem(
            409,
            "A group of this name exists, or the household has as many groups as it may.",
        )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCategoryGroup)]
struct CreateBody {
    #[schema(value_type = shared::domain::Name)]
    name: String,
    sort_order: Option<i32>,
}

static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         existing AS (SELECT count(*) AS n FROM category_groups WHERE household_id = :household_id), \
         created AS ( \
           INSERT INTO category_groups (id, household_id, name, sort_order) \
           SELECT :group_id, :household_id, :name, :sort_order \
           WHERE EXISTS (SELECT 1 FROM me) AND (SELECT n FROM existing) < {MAX_GROUPS} \
           RETURNING *) \
         , answer AS (SELECT (SELECT role FROM caller), {GROUP_COLUMNS} FROM (SELECT 1) AS one LEFT JOIN created g ON true) {ANSWER}"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let body: CreateBody = json_body(&request)?;
    let mut fields = Fields::default();
    let name = fields.check("name", Name::parse(&body.name));
    fields.finish()?;
    let Some(name) = name else {
        return Err(ApiError::Internal("validated name missing".to_owned()));
    };
    let params = access::caller(
        &claims,
        [
            param("group_id", &CategoryGroupId::new()),
            param("name", &name),
            param("sort_order", &body.sort_order.unwrap_or(0)),
        ],
    );
    let rows = access::answer(&app.db.execute(&CREATE, params).await.map_err(write_error)?)?;
    let (row, _) = access::member_row(&rows)?;
    let id: Option<String> = row.get(1)?;
    if id.is_none() {
        return Err(ApiError::Conflict(format!(
            "The household already has {MAX_GROUPS} category groups, the most it can have."
        )));
    }
    group_reply(&row, 1, true)
}
