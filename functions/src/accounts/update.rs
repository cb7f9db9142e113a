//! `PATCH /accounts/{account_id}` {name?, note?, on_budget?, closed?}: change only what is sent
//! (`"note": null` clears the note; `closed` true/false closes or reopens). A rename renames the
//! transfer payee in the same statement. `If-Match` honoured. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::db::param;
use shared::domain::AccountId;
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};
use shared::version::{self, Precondition};

use super::{Account, BALANCES, COLUMNS, TRANSFER_PREFIX, account_name, note, write_error};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("PATCH", "/accounts/{account_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Rename, annotate, close or reopen an account")
        .body::<UpdateBody>(json!({"closed": true}))
        .answers::<Account>(200, "The account as it is now.")
        .etag()
        .if_match()
        .problem(409, "An account of this name exists.")
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AccountChanges)]
struct UpdateBody {
    #[schema(value_type = Option<shared::domain::Name>)]
    name: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "shared::http::present")]
    note: Option<Option<String>>,
    on_budget: Option<bool>,
    closed: Option<bool>,
}

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT id FROM accounts WHERE id = :account_id AND household_id = :household_id), \
         changed AS ( \
           UPDATE accounts a SET name = coalesce(:name, a.name), \
             note = CASE WHEN :set_note THEN :note ELSE a.note END, \
             on_budget = coalesce(:on_budget, a.on_budget), \
             closed_at = CASE WHEN :closed::boolean IS NULL THEN a.closed_at \
                              WHEN :closed::boolean THEN coalesce(a.closed_at, now()) ELSE NULL END, \
             {bump} \
           WHERE a.id = :account_id AND a.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
             AND {matches} \
           RETURNING a.*), \
         renamed AS ( \
           UPDATE payees p SET name = '{TRANSFER_PREFIX}' || c.name, updated_at = clock_timestamp() \
           FROM changed c \
           WHERE p.household_id = c.household_id AND p.transfer_account_id = c.id AND :name::text IS NOT NULL \
           RETURNING p.id) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM target), {COLUMNS} \
         FROM (SELECT 1) AS one LEFT JOIN changed a ON true {BALANCES}) {ANSWER}",
        bump = version::BUMP,
        matches = version::matches("a"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let account = ROUTE.id(&request, "account_id", AccountId::parse)?;
    let body: UpdateBody = json_body(&request)?;
    let mut fields = Fields::default();
    let name = fields.check_optional("name", body.name.as_deref().map(account_name));
    let new_note = match &body.note {
        Some(Some(text)) => fields.check("note", note(text)).map(Some),
        _ => Some(None),
    };
    if body.name.is_none() && body.note.is_none() && body.on_budget.is_none() && body.closed.is_none() {
        fields.reject("name", "send at least one of name, note, on_budget, closed");
    }
    fields.finish()?;
    let (Some(name), Some(new_note)) = (name, new_note) else {
        return Err(ApiError::validated_missing());
    };
    let params = access::caller(
        &claims,
        [
            param("account_id", &account),
            param("name", &name),
            param("set_note", &body.note.is_some()),
            param("note", &new_note),
            param("on_budget", &body.on_budget),
            param("closed", &body.closed),
            Precondition::of(&request).param(),
        ],
    );
    let rows = access::answer(&app.db.execute(&UPDATE, params).await.map_err(write_error)?)?;
    let (row, _) = access::member_row(&rows)?;
    access::written(row.get(1)?, None, row.get::<Option<String>>(2)?.is_some())?;
    let account = Account::from_row(&row, 2)?;
    let version = account.version;
    Ok(Reply::ok(&account).with_version(version))
}
