//! `PATCH /category-groups/{category_group_id}` {name?, sort_order?, hidden?}: change only what is
//! sent; `If-Match` honoured. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::db::param;
use shared::domain::{CategoryGroupId, Name};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};
use shared::version::{self, Precondition};

use super::{GROUP_COLUMNS, group_reply, write_error};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("PATCH", "/category-groups/{category_group_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Rename, reorder or hide a category group")
        .body::<UpdateBody>(json!({"hidden": true}))
        .answers::<super::Group>(200, "The group as it is now.")
        .etag()
        .if_match()
        .problem(409, "A group of this name exists.")
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CategoryGroupChanges)]
struct UpdateBody {
    #[schema(value_type = Option<shared::domain::Name>)]
    name: Option<String>,
    sort_order: Option<i32>,
    hidden: Option<bool>,
}

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT id FROM category_groups WHERE id = :group_id AND household_id = :household_id), \
         changed AS ( \
           UPDATE category_groups g SET name = coalesce(:name, g.name), \
             sort_order = coalesce(:sort_order, g.sort_order), hidden = coalesce(:hidden, g.hidden), {bump} \
           WHERE g.id = :group_id AND g.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
             AND {matches} \
           RETURNING g.*) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM target), {GROUP_COLUMNS} \
         FROM (SELECT 1) AS one LEFT JOIN changed g ON true) {ANSWER}",
        bump = version::BUMP,
        matches = version::matches("g"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let group = ROUTE.id(&request, "category_group_id", CategoryGroupId::parse)?;
    let body: UpdateBody = json_body(&request)?;
    let mut fields = Fields::default();
    let name = fields.check_optional("name", body.name.as_deref().map(Name::parse));
    if body.name.is_none() && body.sort_order.is_none() && body.hidden.is_none() {
        fields.reject("name", "send at least one of name, sort_order, hidden");
    }
    fields.finish()?;
    let Some(name) = name else {
        return Err(ApiError::Internal("validated name missing".to_owned()));
    };
    let params = access::caller(
        &claims,
        [
            param("group_id", &group),
            param("name", &name),
            param("sort_order", &body.sort_order),
            param("hidden", &body.hidden),
            Precondition::of(&request).param(),
        ],
    );
    let rows = access::answer(&app.db.execute(&UPDATE, params).await.map_err(write_error)?)?;
    let (row, _) = access::member_row(&rows)?;
    access::written(row.get(1)?, None, row.get::<Option<String>>(2)?.is_some())?;
    group_reply(&row, 2, false)
}
