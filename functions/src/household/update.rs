//! `PATCH /household` {name?, currency_code?, time_zone?}: rename the household, change its
//! currency, or its time zone (an IANA name PostgreSQL knows; it decides what "today" is for the
//! household's schedules).
//! Owners only, checked against the role stored now (not the token's), honouring `If-Match`.
//! One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::db::param;
use shared::domain::{CurrencyCode, Name, TimeZone};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};
use shared::version::{self, Precondition};

use super::{COLUMNS, Household};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

/// A time zone name of the right shape that PostgreSQL does not know.
const UNKNOWN_TIME_ZONE: &str =
    "is not a time zone this database knows; use an IANA name such as Europe/Berlin";

pub const ROUTE: Route = Route::new("PATCH", "/household");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Rename the household, change its currency or its time zone (owners)",
    )
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
    #[schema(value_type = Option<shared::domain::TimeZone>)]
    time_zone: Option<String>,
}

/// The caller's stored role, then the household as changed, then whether PostgreSQL knows the time
/// zone sent: no role means the caller is no longer a member; a role but no household means they
/// may not, or `If-Match` did not match, or the time zone is unknown.
static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         zone AS (SELECT :time_zone::text IS NULL \
                         OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = :time_zone) AS known), \
         changed AS ( \
           UPDATE households h SET name = COALESCE(:name, h.name), \
                  currency_code = COALESCE(:currency_code, h.currency_code), \
                  time_zone = COALESCE(:time_zone, h.time_zone), {bump} \
           WHERE h.id = :household_id AND (SELECT role FROM me) = 'owner' AND {matches} \
             AND (SELECT known FROM zone) \
           RETURNING h.*) \
         , answer AS (SELECT (SELECT role FROM caller), {columns}, (SELECT known FROM zone) \
                      FROM (SELECT 1) AS one LEFT JOIN changed h ON true) {ANSWER}",
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
    let time_zone = fields.check_optional("time_zone", body.time_zone.as_deref().map(TimeZone::parse));
    if body.name.is_none() && body.currency_code.is_none() && body.time_zone.is_none() {
        fields.reject("name", "send name, currency_code, time_zone or more of them");
    }
    fields.finish()?;
    let (Some(name), Some(currency), Some(time_zone)) = (name, currency, time_zone) else {
        return Err(ApiError::validated_missing());
    };
    let params = access::caller(
        &claims,
        [
            param("name", &name),
            param("currency_code", &currency),
            param("time_zone", &time_zone),
            Precondition::of(&request).param(),
            crate::sync::param_since(None),
        ],
    );
    let rows = access::answer(&app.db.execute(&UPDATE, params).await?)?;
    let row = access::owner_row(&rows, "Only an owner of the household can change it.")?;
    if !row.get::<bool>(10)? {
        return Err(ApiError::invalid("time_zone", UNKNOWN_TIME_ZONE));
    }
    let id: Option<String> = row.get(1)?;
    if id.is_none() {
        return Err(ApiError::PreconditionFailed);
    }
    let household = Household::from_row(&row, 1)?;
    let version = household.version;
    Ok(Reply::ok(&household).with_version(version))
}
