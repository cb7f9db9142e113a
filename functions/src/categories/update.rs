//! `PATCH /categories/{category_id}` {category_group_id?, name?, sort_order?, hidden?, note?}:
//! rename, move to another of the household's groups (422 naming `category_group_id` otherwise),
//! reorder, hide, annotate (`"note": null` clears it). `If-Match` honoured. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::db::param;
use shared::domain::{CategoryGroupId, CategoryId, Name};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};
use shared::version::{self, Precondition};

use super::create::NOT_A_GROUP;
use super::{COLUMNS, category_reply, write_error};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("PATCH", "/categories/{category_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Rename, move, reorder, hide or annotate a category")
        .body::<UpdateBody>(json!({"name": "Broadband"}))
        .answers::<super::Category>(200, "The category as it is now.")
        .etag()
        .if_match()
        .problem(409, "The group has a category of this name.")
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CategoryChanges)]
struct UpdateBody {
    #[schema(value_type = Option<shared::domain::CategoryGroupId>)]
    category_group_id: Option<String>,
    #[schema(value_type = Option<shared::domain::Name>)]
    name: Option<String>,
    sort_order: Option<i32>,
    hidden: Option<bool>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "shared::http::present")]
    note: Option<Option<String>>,
}

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT id FROM categories WHERE id = :category_id AND household_id = :household_id), \
         grp AS (SELECT :group_id::uuid IS NULL OR EXISTS (SELECT 1 FROM category_groups \
                   WHERE id = :group_id AND household_id = :household_id) AS ok), \
         changed AS ( \
           UPDATE categories c SET category_group_id = coalesce(:group_id, c.category_group_id), \
             name = coalesce(:name, c.name), sort_order = coalesce(:sort_order, c.sort_order), \
             hidden = coalesce(:hidden, c.hidden), \
             note = CASE WHEN :set_note THEN :note ELSE c.note END, {bump} \
           WHERE c.id = :category_id AND c.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
             AND (SELECT ok FROM grp) AND {matches} \
           RETURNING c.*) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM target), (SELECT ok FROM grp), {COLUMNS} \
         FROM (SELECT 1) AS one LEFT JOIN changed c ON true) {ANSWER}",
        bump = version::BUMP,
        matches = version::matches("c"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let category = ROUTE.id(&request, "category_id", CategoryId::parse)?;
    let body: UpdateBody = json_body(&request)?;
    let mut fields = Fields::default();
    let group = match body.category_group_id.as_deref().map(CategoryGroupId::parse) {
        None => Some(None),
        Some(Ok(id)) => Some(Some(id)),
        Some(Err(_)) => {
            fields.reject("category_group_id", NOT_A_GROUP);
            None
        }
    };
    let name = fields.check_optional("name", body.name.as_deref().map(Name::parse));
    let note = match &body.note {
        Some(Some(text)) => fields.check("note", crate::accounts::note(text)).map(Some),
        _ => Some(None),
    };
    if body.category_group_id.is_none()
        && body.name.is_none()
        && body.sort_order.is_none()
        && body.hidden.is_none()
        && body.note.is_none()
    {
        fields.reject(
            "name",
            "send at least one of category_group_id, name, sort_order, hidden, note",
        );
    }
    fields.finish()?;
    let (Some(group), Some(name), Some(note)) = (group, name, note) else {
        return Err(ApiError::validated_missing());
    };
    let params = access::caller(
        &claims,
        [
            param("category_id", &category),
            param("group_id", &group),
            param("name", &name),
            param("sort_order", &body.sort_order),
            param("hidden", &body.hidden),
            param("set_note", &body.note.is_some()),
            param("note", &note),
            Precondition::of(&request).param(),
        ],
    );
    let rows = access::answer(&app.db.execute(&UPDATE, params).await.map_err(write_error)?)?;
    let (row, _) = access::member_row(&rows)?;
    let (exists, group_ok): (bool, bool) = (row.get(1)?, row.get(2)?);
    let changed: Option<String> = row.get(3)?;
    let no_group = (!group_ok).then(|| ApiError::invalid("category_group_id", NOT_A_GROUP));
    access::written(exists, no_group, changed.is_some())?;
    category_reply(&row, 3, false)
}
