//! `POST /categories` {category_group_id, name, sort_order?, note?}: 201; 422 naming `category_group_id`
//! when it is not one of this household's groups; 409 when the name is taken in that group or the
//! household has [`MAX_CATEGORIES`](super::MAX_CATEGORIES). One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::db::param;
use shared::domain::{CategoryGroupId, CategoryId, Name};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};

use super::{COLUMNS, MAX_CATEGORIES, category_reply, write_error};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("POST", "/categories");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Add a category to a group")
        .body::<CreateBody>(
            json!({"category_group_id": "0193a5b2-7c4e-7d1a-9f00-3c5e8a2b4d61", "name": "Internet"}),
        )
        .answers::<super::Category>(201, "The category.")
        .etag()
        .problem(
            409,
            "The group has a category of this name, or the household has as many categories as it may.",
        )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCategory)]
struct CreateBody {
    #[schema(value_type = shared::domain::CategoryGroupId)]
    category_group_id: String,
    #[schema(value_type = shared::domain::Name)]
    name: String,
    sort_order: Option<i32>,
    note: Option<String>,
}

/// The 422 for a group that is not the household's (unknown, foreign or malformed alike).
pub const NOT_A_GROUP: &str = "is not a category group of this household";

static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         grp AS (SELECT id FROM category_groups WHERE id = :group_id AND household_id = :household_id), \
         existing AS (SELECT count(*) AS n FROM categories WHERE household_id = :household_id), \
         created AS ( \
           INSERT INTO categories (id, household_id, category_group_id, name, sort_order, note) \
           SELECT :category_id, :household_id, g.id, :name, :sort_order, :note FROM grp g \
           WHERE EXISTS (SELECT 1 FROM me) AND (SELECT n FROM existing) < {MAX_CATEGORIES} \
           RETURNING *) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM grp), {COLUMNS} \
         FROM (SELECT 1) AS one LEFT JOIN created c ON true) {ANSWER}"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let body: CreateBody = json_body(&request)?;
    let mut fields = Fields::default();
    let group = CategoryGroupId::parse(&body.category_group_id).ok();
    if group.is_none() {
        fields.reject("category_group_id", NOT_A_GROUP);
    }
    let name = fields.check("name", Name::parse(&body.name));
    let note = fields.check_optional("note", body.note.as_deref().map(crate::accounts::note));
    fields.finish()?;
    let (Some(group), Some(name), Some(note)) = (group, name, note) else {
        return Err(ApiError::validated_missing());
    };
    let params = access::caller(
        &claims,
        [
            param("group_id", &group),
            param("category_id", &CategoryId::new()),
            param("name", &name),
            param("sort_order", &body.sort_order.unwrap_or(0)),
            param("note", &note),
        ],
    );
    let rows = access::answer(&app.db.execute(&CREATE, params).await.map_err(write_error)?)?;
    let (row, _) = access::member_row(&rows)?;
    let group_found: bool = row.get(1)?;
    if !group_found {
        return Err(ApiError::invalid("category_group_id", NOT_A_GROUP));
    }
    let id: Option<String> = row.get(2)?;
    if id.is_none() {
        return Err(ApiError::Conflict(format!(
            "The household already has {MAX_CATEGORIES} categories, the most it can have."
        )));
    }
    category_reply(&row, 2, true)
}
