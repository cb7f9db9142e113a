//! `POST /accounts` {name, kind, on_budget?, note?, opening_balance?, opening_date?}: a new account,
//! its transfer payee ("Transfer : <name>") and, with an opening balance, its first transaction
//! (payee "Starting Balance", cleared), all in one Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::db::param;
use shared::domain::{AccountId, AccountKind, Milliunits, PayeeId, SqlEnum, TransactionId};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};

use super::{Account, MAX_ACCOUNTS, account_name, note, write_error};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;
use shared::domain::{amount, date};

pub const ROUTE: Route = Route::new("POST", "/accounts");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Open an account, with its transfer payee and opening balance",
    )
    .body::<CreateBody>(json!({"name": "Checking", "kind": "checking", "opening_balance": 1_500_000}))
    .answers::<Account>(201, "The account.")
    .etag()
    .problem(
        409,
        "An account of this name exists, or the household has as many accounts as it may.",
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewAccount)]
struct CreateBody {
    #[schema(value_type = shared::domain::Name)]
    name: String,
    #[schema(value_type = shared::domain::AccountKind)]
    kind: String,
    on_budget: Option<bool>,
    note: Option<String>,
    #[schema(value_type = Option<shared::domain::Milliunits>)]
    opening_balance: Option<i64>,
    #[schema(value_type = Option<chrono::NaiveDate>)]
    opening_date: Option<String>,
}

static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         existing AS (SELECT count(*) AS n FROM accounts WHERE household_id = :household_id), \
         account AS ( \
           INSERT INTO accounts (id, household_id, name, kind, on_budget, note) \
           SELECT :account_id, :household_id, :name, :kind, :on_budget, :note \
           WHERE EXISTS (SELECT 1 FROM me) AND (SELECT n FROM existing) < {MAX_ACCOUNTS} \
           RETURNING *), \
         transfer_payee AS ( \
           INSERT INTO payees (id, household_id, name, transfer_account_id) \
           SELECT :transfer_payee_id, a.household_id, '{prefix}' || a.name, a.id FROM account a \
           RETURNING id), \
         starting_payee AS ( \
           INSERT INTO payees (id, household_id, name) \
           SELECT :starting_payee_id, a.household_id, 'Starting Balance' FROM account a \
           WHERE :opening_balance::bigint IS NOT NULL \
           ON CONFLICT (household_id, name) DO NOTHING \
           RETURNING id), \
         opening AS ( \
           INSERT INTO transactions (id, household_id, account_id, date, amount, payee_id, cleared, approved, created_by) \
           SELECT :transaction_id, a.household_id, a.id, coalesce(:opening_date::date, current_date), \
                  :opening_balance::bigint, \
                  coalesce((SELECT id FROM starting_payee), \
                           (SELECT p.id FROM payees p WHERE p.household_id = :household_id AND p.name = 'Starting Balance')), \
                  'cleared', true, :user_id \
           FROM account a WHERE :opening_balance::bigint IS NOT NULL \
           RETURNING amount) \
         , answer AS (SELECT (SELECT role FROM caller), (SELECT n FROM existing), \
                a.id, a.name, a.kind, a.on_budget, NULL::text, a.note, \
                coalesce((SELECT amount FROM opening), 0)::bigint, \
                coalesce((SELECT amount FROM opening), 0)::bigint, 0::bigint, \
                (SELECT id FROM transfer_payee), \
                to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
                {version} \
         FROM (SELECT 1) AS one LEFT JOIN account a ON true) {ANSWER}",
        prefix = super::TRANSFER_PREFIX,
        version = shared::version::version("a"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let body: CreateBody = json_body(&request)?;
    let mut fields = Fields::default();
    let name = fields.check("name", account_name(&body.name));
    let kind = fields.check("kind", AccountKind::parse(&body.kind));
    let note = fields.check_optional("note", body.note.as_deref().map(note));
    let opening = fields.check_optional("opening_balance", body.opening_balance.map(amount));
    let opening_date = fields.check_optional("opening_date", body.opening_date.as_deref().map(date));
    if body.opening_date.is_some() && body.opening_balance.is_none() {
        fields.reject("opening_date", "is only meaningful with an opening_balance");
    }
    fields.finish()?;
    let (Some(name), Some(kind), Some(note), Some(opening), Some(opening_date)) =
        (name, kind, note, opening, opening_date)
    else {
        return Err(ApiError::validated_missing());
    };
    let params = access::caller(
        &claims,
        [
            param("account_id", &AccountId::new()),
            param("name", &name),
            param("kind", &kind),
            param("on_budget", &body.on_budget.unwrap_or(true)),
            param("note", &note),
            param("transfer_payee_id", &PayeeId::new()),
            param("starting_payee_id", &PayeeId::new()),
            param("transaction_id", &TransactionId::new()),
            param("opening_balance", &opening.map(Milliunits::get)),
            param("opening_date", &opening_date),
        ],
    );
    let rows = access::answer(&app.db.execute(&CREATE, params).await.map_err(write_error)?)?;
    let (row, _) = access::member_row(&rows)?;
    let created: Option<String> = row.get(2)?;
    if created.is_none() {
        return Err(ApiError::Conflict(format!(
            "The household already has {MAX_ACCOUNTS} accounts, the most it can have; close or delete one first."
        )));
    }
    let account = Account::from_row(&row, 2)?;
    let version = account.version;
    Ok(Reply::created(&account).with_version(version))
}
