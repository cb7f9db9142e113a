//! `PATCH /household` {name?, currency_code?}: rename the household or change its currency.
//! Owners only, checked against the role stored now (not the token's), honouring `If-Match`.
//! One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::db::param;
use shared::domain::{CurrencyCode, Name};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};
use shared::version::{self, Precondition};

use super::{COLUMNS, Household};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("PATCH", "/household");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Rename the household or change its currency (owners)")
        .body::<UpdateBody>(json!({"name": "The Lovelaces"}))
        .answers::<Household>(200, "The household as it is now.")
        .etag()
        .if_match()
        .problem(403, "Only an owner of the household may do this.")
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = HouseholdChanges)]
struct UpdateBody {
    #[schema(value_type = Option<shared::domain::Name>)]
    name: Option<String>,
    #[schema(value_type = Option<shared::domain::CurrencyCode>)]
    currency_code: Option<String>,
}

/// The caller's stored role, then the household as changed: no role means the caller is no
/// longer a member; a role but no household means they may not, or `If-Match` did not match.
static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         changed AS ( \
           UPDATE households h SET name = COALESCE(:name, h.name), \
                  currency_code = COALESCE(:currency_code, h.currency_code), {bump} \
           WHERE h.id = :household_id AND (SELECT role FROM me) = 'owner' AND {matches} \
           RETURNING h.*) \
         , answer AS (SELECT (SELECT role FROM caller), {columns} FROM (SELECT 1) AS one LEFT JOIN changed h ON true) {ANSWER}",
        bump = version::BUMP,
        matches = version::matches("h"),
        columns = *COLUMNS
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let body: UpdateBody = json_body(&request)?;
    let mut fields = Fields::default();
    let name = fields.check_optional("name", body.name.as_deref().map(Name::parse));
    let currency = fields.check_optional(
        "currency_code",
        body.currency_code.as_deref().map(CurrencyCode::parse),
    );
    if body.name.is_none() && body.currency_code.is_none() {
        fields.reject("name", "send name, currency_code or both");
    }
    fields.finish()?;
    let (Some(name), Some(currency)) = (name, currency) else {
        return Err(ApiError::Internal("validated fields missing".to_owned()));
    };
    let params = access::caller(
        &claims,
        [
            param("name", &name),
            param("currency_code", &currency),
            Precondition::of(&request).param(),
            crate::sync::param_since(None),
        ],
    );
    let rows = access::answer(&app.db.execute(&UPDATE, params).await?)?;
    let row = access::owner_row(&rows, "Only an owner of the household can change it.")?;
    let id: Option<String> = row.get(1)?;
    if id.is_none() {
        return Err(ApiError::PreconditionFailed);
    }
    let household = Household::from_row(&row, 1)?;
    let version = household.version;
    Ok(Reply::ok(&household).with_version(version))
}
