//! `PATCH /scheduled-transactions/{scheduled_transaction_id}`: change any field; only what is sent
//! changes (`null` clears payee, category, memo, an end, or makes a transfer an ordinary schedule).
//! A new `date_first` or `frequency` starts the schedule again from `date_first` (today or later);
//! the transactions made before stay, and a date already made is never made twice. Sending one end
//! clears the other. `subtransactions` replaces every line (`[]` un-splits). `If-Match` honoured.
//! The transaction rules are the transactions' (`transactions::rules`). One Data API call.

use std::sync::LazyLock;

use chrono::NaiveDate;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::db::param;
use shared::domain::schedule::{MAX_END_COUNT, ONE_END, occurrence_sql};
use shared::domain::{
    self, AccountId, CategoryId, Frequency, Milliunits, Name, PayeeId, ScheduledTransactionId, SqlEnum,
    amount,
};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body, present};
use shared::version::{self, Precondition};

use super::{NO_PROBLEMS, PROBLEMS_JSON, SCHEDULE_PROBLEMS, ScheduledTransaction, schedule_lines_json};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use crate::transactions::body::{
    Line, MAX_MEMO_CHARS, NewLine, accounts_cte, categories_cte, check_text, problems_of, split_lines,
};
use crate::transactions::rules;
use crate::transactions::update::{optional_nullable, sent};

pub const ROUTE: Route = Route::new("PATCH", "/scheduled-transactions/{scheduled_transaction_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Change any field of a scheduled transaction")
        .about(
            "A new `date_first` or `frequency` starts it again from `date_first`; `null` clears \
             payee, category, memo or an end; `subtransactions` replaces every line.",
        )
        .body::<Patch>(json!({"amount": -1_250_000}))
        .answers::<ScheduledTransaction>(200, "The scheduled transaction as it is now.")
        .etag()
        .if_match()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ScheduledTransactionChanges)]
struct Patch {
    #[schema(value_type = Option<shared::domain::AccountId>)]
    account_id: Option<String>,
    #[schema(value_type = Option<chrono::NaiveDate>)]
    date_first: Option<String>,
    #[schema(value_type = Option<shared::domain::Frequency>)]
    frequency: Option<String>,
    #[schema(value_type = Option<chrono::NaiveDate>)]
    #[serde(default, deserialize_with = "present")]
    end_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    end_count: Option<Option<i64>>,
    #[schema(value_type = Option<shared::domain::Milliunits>)]
    amount: Option<i64>,
    #[schema(value_type = Option<shared::domain::PayeeId>)]
    #[serde(default, deserialize_with = "present")]
    payee_id: Option<Option<String>>,
    #[schema(value_type = Option<shared::domain::Name>)]
    payee_name: Option<String>,
    #[schema(value_type = Option<shared::domain::CategoryId>)]
    #[serde(default, deserialize_with = "present")]
    category_id: Option<Option<String>>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "present")]
    memo: Option<Option<String>>,
    #[schema(value_type = Option<shared::domain::AccountId>)]
    #[serde(default, deserialize_with = "present")]
    transfer_account_id: Option<Option<String>>,
    subtransactions: Option<Vec<NewLine>>,
}

/// The validated changes as the statement takes them: a key is there only when its field was sent
/// (`null` when sent as `null`).
#[derive(Serialize)]
struct Changes {
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_first: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency: Option<Frequency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_date: Option<Option<NaiveDate>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_count: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<Milliunits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payee_id: Option<Option<PayeeId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payee_name: Option<String>,
    new_payee_id: PayeeId,
    #[serde(skip_serializing_if = "Option::is_none")]
    category_id: Option<Option<CategoryId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memo: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_account_id: Option<Option<AccountId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<Line>>,
}

/// The keys of [`Changes`] that are the row's own columns, merged over the stored row as sent;
/// only these, so that no other key could ever set a column such as `id` or `household_id`.
const MERGED: [&str; 9] = [
    "account_id",
    "date_first",
    "frequency",
    "end_date",
    "end_count",
    "amount",
    "payee_id",
    "category_id",
    "memo",
];

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         c AS (SELECT :changes::jsonb AS j), \
         line_items AS ( \
           SELECT 0 AS n, l.* FROM c, jsonb_to_recordset(COALESCE(c.j -> 'lines', '[]')) AS l (k int, \
             amount bigint, category_id uuid, payee_id uuid, memo text)), \
         lines_now AS ( \
           SELECT amount FROM line_items UNION ALL SELECT amount FROM scheduled_lines, c \
           WHERE household_id = :household_id AND schedule_id = :scheduled_transaction_id AND NOT {lines_sent}), \
         given_payees AS ( \
           SELECT id, name, transfer_account_id FROM payees WHERE household_id = :household_id \
             AND id IN (SELECT (j ->> 'payee_id')::uuid FROM c UNION SELECT payee_id FROM line_items)), \
         named AS (SELECT id, name FROM payees WHERE household_id = :household_id \
                   AND name = (SELECT j ->> 'payee_name' FROM c)), \
         proposed AS ( \
           SELECT m.*, 0 AS n, j, {matches} AS allowed, m.account_id <> x.account_id AS account_is_new, \
             target_id, target_id IS DISTINCT FROM x.transfer_account_id AS target_is_new, \
             {transfer_sent} AS transfer_sent, {lines_sent} AS lines_sent, true AS check_lines, \
             (SELECT count(*) FROM lines_now) AS lines, (SELECT sum(amount) FROM lines_now) AS line_sum, \
             (j ->> 'category_id')::uuid AS category_sent, (j ->> 'payee_id')::uuid AS payee_sent, \
             CASE WHEN NOT EXISTS (SELECT 1 FROM named) THEN j ->> 'payee_name' END AS new_payee, \
             {date_first_sent} OR {frequency_sent} AS restart, {date_first_sent} OR {end_date_sent} AS check_end, \
             false AS is_new \
           FROM scheduled_transactions x CROSS JOIN c CROSS JOIN LATERAL jsonb_populate_record(x, ( \
             SELECT COALESCE(jsonb_object_agg(e.key, e.value), '{{}}') FROM jsonb_each(j) AS e \
             WHERE e.key IN ({merged}))) AS m \
           LEFT JOIN given_payees g ON g.id = (j ->> 'payee_id')::uuid \
           CROSS JOIN LATERAL (SELECT CASE WHEN {transfer_sent} OR {payee_id_sent} OR {payee_name_sent} \
             THEN COALESCE((j ->> 'transfer_account_id')::uuid, g.transfer_account_id) \
             ELSE x.transfer_account_id END AS target_id) AS transfer \
           WHERE x.id = :scheduled_transaction_id AND x.household_id = :household_id \
             AND x.deleted_at IS NULL AND EXISTS (SELECT 1 FROM me)), \
         {accts}, {cats}, {problems}, {schedule_problems}, \
         f AS ( \
           SELECT p.*, CASE WHEN p.restart THEN 0 ELSE p.next_occurrence END AS next_k, \
             CASE WHEN p.target_id IS NOT NULL THEN NULL \
                  WHEN {payee_name_sent} THEN COALESCE(named.id, (j ->> 'new_payee_id')::uuid) \
                  ELSE p.payee_id END AS payee, \
             CASE WHEN p.lines = 0 AND (p.target_id IS NULL OR src.on_budget <> tgt.on_budget) \
                  THEN p.category_id END AS category \
           FROM proposed p JOIN accts src ON src.id = p.account_id LEFT JOIN accts tgt ON tgt.id = p.target_id \
           LEFT JOIN named ON true WHERE p.allowed AND {NO_PROBLEMS}), \
         new_payee AS ( \
           INSERT INTO payees (id, household_id, name) SELECT payee, :household_id, new_payee FROM f \
           WHERE new_payee IS NOT NULL AND target_id IS NULL ON CONFLICT DO NOTHING RETURNING id), \
         main AS ( \
           UPDATE scheduled_transactions x SET (account_id, date_first, frequency, end_date, end_count, \
             amount, payee_id, category_id, memo, transfer_account_id, next_occurrence) = (f.account_id, \
             f.date_first, f.frequency, f.end_date, f.end_count, f.amount, f.payee, f.category, f.memo, \
             f.target_id, f.next_k), {bump}, \
             date_next = CASE WHEN (f.end_count IS NULL OR f.next_k < f.end_count) \
               AND (f.end_date IS NULL OR {next} <= f.end_date) THEN {next} END \
           FROM f WHERE x.id = f.id AND x.household_id = :household_id \
           RETURNING x.*, {version_x} AS version), \
         lines_gone AS ( \
           DELETE FROM scheduled_lines l USING f \
           WHERE l.household_id = :household_id AND l.schedule_id = f.id AND {lines_sent} RETURNING l.id), \
         lines_made AS ( \
           INSERT INTO scheduled_lines (id, household_id, schedule_id, position, amount, category_id, \
             payee_id, memo) \
           SELECT {new_id}, :household_id, f.id, l.k, l.amount, l.category_id, l.payee_id, l.memo \
           FROM line_items l CROSS JOIN f \
           RETURNING id, position, amount, category_id, payee_id, memo) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM proposed), \
           (SELECT allowed FROM proposed), {problems_json}, \
           m.id, m.account_id, m.date_first, m.date_next, m.frequency, m.end_date, m.end_count, m.amount, \
           COALESCE(m.payee_id, tgt.transfer_payee), COALESCE(py.name, f.new_payee, tgt.transfer_payee_name), \
           m.category_id, m.memo, m.transfer_account_id, false, m.version, \
           CASE WHEN f.lines_sent THEN (SELECT {lines_json}::text FROM lines_made l) \
                ELSE (SELECT {lines_json}::text FROM scheduled_lines l \
                      WHERE l.household_id = :household_id AND l.schedule_id = m.id) END, \
           m.next_occurrence \
         FROM (SELECT 1) AS one LEFT JOIN main m ON true LEFT JOIN f ON f.id = m.id \
         LEFT JOIN accts tgt ON tgt.id = m.transfer_account_id \
         LEFT JOIN payees py ON py.household_id = :household_id AND py.id = m.payee_id) {ANSWER}",
        matches = version::matches("x"),
        version_x = version::version("x"),
        bump = version::bump("x"),
        accts = accounts_cte("SELECT account_id FROM proposed UNION SELECT target_id FROM proposed"),
        cats = categories_cte("SELECT category_id FROM proposed UNION SELECT category_id FROM line_items"),
        problems = rules::PROBLEMS.as_str(),
        schedule_problems = SCHEDULE_PROBLEMS.as_str(),
        problems_json = PROBLEMS_JSON.as_str(),
        next = occurrence_sql("f.date_first", "f.frequency", "f.next_k"),
        transfer_sent = sent("transfer_account_id"),
        payee_id_sent = sent("payee_id"),
        payee_name_sent = sent("payee_name"),
        date_first_sent = sent("date_first"),
        frequency_sent = sent("frequency"),
        end_date_sent = sent("end_date"),
        lines_sent = sent("lines"),
        merged = MERGED.map(|c| format!("'{c}'")).join(", "),
        new_id = domain::NEW_ID_SQL,
        lines_json = schedule_lines_json!(),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let id = ROUTE.id(
        &request,
        "scheduled_transaction_id",
        ScheduledTransactionId::parse,
    )?;
    let changes = validate(json_body(&request)?)?;
    let params = access::caller(
        &claims,
        [
            param("scheduled_transaction_id", &id),
            param("changes", &json!(changes).to_string()),
            Precondition::of(&request).param(),
        ],
    );
    let rows = app
        .db
        .execute(&UPDATE, params)
        .await
        .map_err(crate::transactions::write_error)?;
    let rows = access::answer(&rows)?;
    let (row, _) = access::member_row(&rows)?;
    if !row.get::<bool>(1)? {
        return Err(ApiError::NotFound);
    }
    if !row.get::<bool>(2)? {
        return Err(ApiError::PreconditionFailed);
    }
    if let Some(problems) = row.get::<Option<String>>(3)? {
        return Err(ApiError::Validation(problems_of(&problems, &|_| String::new())?));
    }
    let schedule = ScheduledTransaction::from_row(&row, 4)?;
    let version = schedule.version;
    Ok(Reply::ok(&schedule).with_version(version))
}

/// Checks the fields sent, each on its own; what needs the stored schedule is checked in the
/// statement.
fn validate(body: Patch) -> Result<Changes, ApiError> {
    let mut fields = Fields::default();
    let account_id = fields.check_optional("account_id", body.account_id.as_deref().map(AccountId::parse));
    let date_first = fields.check_optional("date_first", body.date_first.as_deref().map(domain::date));
    let frequency = fields.check_optional("frequency", body.frequency.as_deref().map(Frequency::parse));
    let end_date = optional_nullable(&mut fields, "end_date", body.end_date.as_ref(), domain::date);
    let total = fields.check_optional("amount", body.amount.map(amount));
    let payee_id = optional_nullable(&mut fields, "payee_id", body.payee_id.as_ref(), PayeeId::parse);
    let payee_name = fields.check_optional("payee_name", body.payee_name.as_deref().map(Name::parse));
    let category_id = optional_nullable(
        &mut fields,
        "category_id",
        body.category_id.as_ref(),
        CategoryId::parse,
    );
    let transfer_account_id = optional_nullable(
        &mut fields,
        "transfer_account_id",
        body.transfer_account_id.as_ref(),
        AccountId::parse,
    );
    check_text(
        &mut fields,
        "memo",
        body.memo.as_ref().and_then(Option::as_deref),
        MAX_MEMO_CHARS,
    );
    if matches!(body.end_date, Some(Some(_))) && matches!(body.end_count, Some(Some(_))) {
        fields.reject("end_count", ONE_END);
    }
    if let Some(Some(count)) = body.end_count
        && !(1..=MAX_END_COUNT).contains(&count)
    {
        fields.reject("end_count", &format!("must be from 1 to {MAX_END_COUNT}"));
    }
    let transfer_sent = matches!(body.transfer_account_id, Some(Some(_)));
    for (field, message) in
        rules::payee_problems(body.payee_id.is_some(), body.payee_name.is_some(), transfer_sent)
    {
        fields.reject(field, &message);
    }
    let lines = body
        .subtransactions
        .map(|sent| split_lines("", sent, &mut fields).0);
    let nothing_sent = body.account_id.is_none()
        && body.date_first.is_none()
        && body.frequency.is_none()
        && body.end_date.is_none()
        && body.end_count.is_none()
        && body.amount.is_none()
        && body.payee_id.is_none()
        && body.payee_name.is_none()
        && body.category_id.is_none()
        && body.memo.is_none()
        && body.transfer_account_id.is_none()
        && lines.is_none();
    fields.require_a_change(nothing_sent);
    fields.finish()?;
    let end_date = end_date.ok_or_else(ApiError::validated_missing)?;
    // One end replaces the other.
    let end_count = match (body.end_count, &end_date) {
        (Some(count), _) => Some(count),
        (None, Some(Some(_))) => Some(None),
        (None, _) => None,
    };
    let end_date = match (end_date, &end_count) {
        (Some(date), _) => Some(date),
        (None, Some(Some(_))) => Some(None),
        (None, _) => None,
    };
    Ok(Changes {
        account_id: account_id.ok_or_else(ApiError::validated_missing)?,
        date_first: date_first.ok_or_else(ApiError::validated_missing)?,
        frequency: frequency.ok_or_else(ApiError::validated_missing)?,
        end_date,
        end_count,
        amount: total.ok_or_else(ApiError::validated_missing)?,
        payee_id: payee_id.ok_or_else(ApiError::validated_missing)?,
        payee_name: payee_name
            .ok_or_else(ApiError::validated_missing)?
            .map(|n| n.as_str().to_owned()),
        new_payee_id: PayeeId::new(),
        category_id: category_id.ok_or_else(ApiError::validated_missing)?,
        memo: body.memo,
        transfer_account_id: transfer_account_id.ok_or_else(ApiError::validated_missing)?,
        lines,
    })
}
