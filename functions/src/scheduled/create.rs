//! `POST /scheduled-transactions`: a transaction that repeats, from `date_first` (today or later in
//! the household's time zone) every `frequency`, until `end_date` or for `end_count` occurrences
//! if either is sent. A transfer (`transfer_account_id`) or a split (`subtransactions`) is
//! scheduled whole. The rules are the transactions' (`transactions::rules`), from the same code:
//! the request's own in Rust, those of stored rows in the shared `problems` CTE. One Data API call.

use std::sync::LazyLock;

use chrono::NaiveDate;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::db::param;
use shared::domain::schedule::end_problems;
use shared::domain::{
    self, AccountId, CategoryId, Frequency, Milliunits, Name, PayeeId, ScheduledTransactionId, SqlEnum,
    amount,
};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};

use super::{NO_PROBLEMS, PROBLEMS_JSON, SCHEDULE_PROBLEMS, ScheduledTransaction, schedule_lines_json};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use crate::transactions::body::{
    Line, MAX_MEMO_CHARS, NewLine, accounts_cte, categories_cte, check_text, problems_of, split_lines,
};
use crate::transactions::rules;

pub const ROUTE: Route = Route::new("POST", "/scheduled-transactions");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Schedule a transaction that repeats")
        .about(
            "From `date_first` (today or later in the household's time zone) every `frequency`, \
             until `end_date` or for `end_count` occurrences. Transfers and splits too.",
        )
        .body::<NewSchedule>(json!({"account_id": "0193a5b2-7c4e-7d1a-9f00-3c5e8a2b4d61", "date_first": "2027-01-31", "frequency": "monthly", "amount": -1_200_000, "payee_name": "Landlord"}))
        .answers::<ScheduledTransaction>(201, "The scheduled transaction, with its next dates.")
        .etag()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewScheduledTransaction)]
struct NewSchedule {
    #[schema(value_type = shared::domain::AccountId)]
    account_id: String,
    #[schema(value_type = chrono::NaiveDate)]
    date_first: String,
    #[schema(value_type = shared::domain::Frequency)]
    frequency: String,
    #[schema(value_type = Option<chrono::NaiveDate>)]
    end_date: Option<String>,
    #[schema(minimum = 1, maximum = 10_000)]
    end_count: Option<i64>,
    #[schema(value_type = shared::domain::Milliunits)]
    amount: i64,
    #[schema(value_type = Option<shared::domain::PayeeId>)]
    payee_id: Option<String>,
    #[schema(value_type = Option<shared::domain::Name>)]
    payee_name: Option<String>,
    #[schema(value_type = Option<shared::domain::CategoryId>)]
    category_id: Option<String>,
    #[schema(max_length = 500)]
    memo: Option<String>,
    #[schema(value_type = Option<shared::domain::AccountId>)]
    transfer_account_id: Option<String>,
    #[serde(default)]
    subtransactions: Vec<NewLine>,
}

/// The validated schedule as the statement takes it.
#[derive(Serialize)]
struct Item {
    id: ScheduledTransactionId,
    account_id: AccountId,
    date_first: NaiveDate,
    frequency: Frequency,
    end_date: Option<NaiveDate>,
    end_count: Option<i64>,
    amount: Milliunits,
    payee_id: Option<PayeeId>,
    payee_name: Option<String>,
    new_payee_id: PayeeId,
    category_id: Option<CategoryId>,
    memo: Option<String>,
    transfer_account_id: Option<AccountId>,
    lines: Vec<Line>,
}

static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         i AS ( \
           SELECT * FROM jsonb_to_record(:item::jsonb) AS i (id uuid, account_id uuid, date_first date, \
             frequency text, end_date date, end_count int, amount bigint, payee_id uuid, payee_name text, \
             new_payee_id uuid, category_id uuid, memo text, transfer_account_id uuid, lines jsonb) \
           WHERE EXISTS (SELECT 1 FROM me)), \
         line_items AS ( \
           SELECT 0 AS n, l.* FROM i, jsonb_to_recordset(i.lines) AS l (k int, amount bigint, \
             category_id uuid, payee_id uuid, memo text)), \
         given_payees AS ( \
           SELECT id, name, transfer_account_id FROM payees WHERE household_id = :household_id \
             AND id IN (SELECT payee_id FROM i UNION SELECT payee_id FROM line_items)), \
         named AS (SELECT id, name FROM payees WHERE household_id = :household_id \
                   AND name = (SELECT payee_name FROM i)), \
         proposed AS ( \
           SELECT 0 AS n, i.account_id, true AS account_is_new, true AS target_is_new, true AS transfer_sent, \
             COALESCE(i.transfer_account_id, g.transfer_account_id) AS target_id, \
             jsonb_array_length(i.lines) AS lines, true AS lines_sent, false AS check_lines, \
             NULL::bigint AS line_sum, i.amount, i.category_id AS category_sent, i.payee_id AS payee_sent, \
             CASE WHEN NOT EXISTS (SELECT 1 FROM named) THEN i.payee_name END AS new_payee, \
             i.date_first, i.end_date, true AS restart, false AS check_end, true AS is_new \
           FROM i LEFT JOIN given_payees g ON g.id = i.payee_id), \
         {accts}, {cats}, {problems}, \
         {schedule_problems}, \
         ok AS (SELECT {NO_PROBLEMS} AS yes), \
         new_payee AS ( \
           INSERT INTO payees (id, household_id, name) \
           SELECT i.new_payee_id, :household_id, p.new_payee FROM i, proposed p \
           WHERE p.new_payee IS NOT NULL AND p.target_id IS NULL AND (SELECT yes FROM ok) \
           ON CONFLICT DO NOTHING RETURNING id, name), \
         made AS ( \
           INSERT INTO scheduled_transactions (id, household_id, account_id, date_first, frequency, \
             date_next, end_date, end_count, amount, payee_id, category_id, memo, transfer_account_id, created_by) \
           SELECT i.id, :household_id, i.account_id, i.date_first, i.frequency, i.date_first, i.end_date, \
             i.end_count, i.amount, \
             CASE WHEN p.target_id IS NULL THEN COALESCE(i.payee_id, named.id, \
               CASE WHEN p.new_payee IS NOT NULL THEN i.new_payee_id END) END, \
             i.category_id, i.memo, p.target_id, :user_id \
           FROM i CROSS JOIN proposed p LEFT JOIN named ON true WHERE (SELECT yes FROM ok) \
           RETURNING *, {version} AS version), \
         made_lines AS ( \
           INSERT INTO scheduled_lines (id, household_id, schedule_id, position, amount, category_id, \
             payee_id, memo) \
           SELECT {new_id}, :household_id, m.id, l.k, l.amount, l.category_id, l.payee_id, l.memo \
           FROM line_items l CROSS JOIN made m \
           RETURNING id, position, amount, category_id, payee_id, memo) \
         , answer AS (SELECT (SELECT role FROM caller), {problems_json}, \
           m.id, m.account_id, m.date_first, m.date_next, m.frequency, m.end_date, m.end_count, m.amount, \
           COALESCE(m.payee_id, tgt.transfer_payee), \
           COALESCE(g.name, named.name, tgt.transfer_payee_name, (SELECT name FROM new_payee)), \
           m.category_id, m.memo, m.transfer_account_id, false, m.version, \
           (SELECT {lines_json}::text FROM made_lines l), m.next_occurrence \
         FROM (SELECT 1) AS one LEFT JOIN made m ON true \
         LEFT JOIN accts tgt ON tgt.id = m.transfer_account_id \
         LEFT JOIN given_payees g ON g.id = m.payee_id LEFT JOIN named ON named.id = m.payee_id) {ANSWER}",
        accts = accounts_cte("SELECT account_id FROM proposed UNION SELECT target_id FROM proposed"),
        cats = categories_cte("SELECT category_sent FROM proposed UNION SELECT category_id FROM line_items"),
        problems = rules::PROBLEMS.as_str(),
        schedule_problems = SCHEDULE_PROBLEMS.as_str(),
        problems_json = PROBLEMS_JSON.as_str(),
        version = shared::version_of!(),
        new_id = domain::NEW_ID_SQL,
        lines_json = schedule_lines_json!(),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let item = validate(json_body(&request)?)?;
    let params = access::caller(&claims, [param("item", &json!(item).to_string())]);
    let rows = app
        .db
        .execute(&CREATE, params)
        .await
        .map_err(crate::transactions::write_error)?;
    let rows = access::answer(&rows)?;
    let (row, _) = access::member_row(&rows)?;
    if let Some(problems) = row.get::<Option<String>>(1)? {
        return Err(ApiError::Validation(problems_of(&problems, &|_| String::new())?));
    }
    let schedule = ScheduledTransaction::from_row(&row, 2)?;
    let version = schedule.version;
    Ok(Reply::created(&schedule).with_version(version))
}

/// Checks the schedule's own fields; what needs the database is checked in the statement.
fn validate(body: NewSchedule) -> Result<Item, ApiError> {
    let mut fields = Fields::default();
    let account_id = fields.check("account_id", AccountId::parse(&body.account_id));
    let date_first = fields.check("date_first", domain::date(&body.date_first));
    let frequency = fields.check("frequency", Frequency::parse(&body.frequency));
    let end_date = body
        .end_date
        .as_deref()
        .and_then(|t| fields.check("end_date", domain::date(t)));
    let total = fields.check("amount", amount(body.amount));
    let payee_id = body
        .payee_id
        .as_deref()
        .and_then(|t| fields.check("payee_id", PayeeId::parse(t)));
    let payee_name = body
        .payee_name
        .as_deref()
        .and_then(|t| fields.check("payee_name", Name::parse(t)));
    let category_id = body
        .category_id
        .as_deref()
        .and_then(|t| fields.check("category_id", CategoryId::parse(t)));
    let transfer_account_id = body
        .transfer_account_id
        .as_deref()
        .and_then(|t| fields.check("transfer_account_id", AccountId::parse(t)));
    check_text(&mut fields, "memo", body.memo.as_deref(), MAX_MEMO_CHARS);
    let mut problems = rules::payee_problems(
        body.payee_id.is_some(),
        body.payee_name.is_some(),
        body.transfer_account_id.is_some(),
    );
    if let Some(first) = date_first {
        problems.extend(end_problems(first, end_date, body.end_count));
    }
    let mut lines = Vec::new();
    if !body.subtransactions.is_empty() {
        let (valid, sum) = split_lines("", body.subtransactions, &mut fields);
        lines = valid;
        problems.extend(rules::split_problems(
            body.amount,
            sum,
            body.category_id.is_some(),
        ));
    }
    for (field, message) in problems {
        fields.reject(field, &message);
    }
    fields.finish()?;
    Ok(Item {
        id: ScheduledTransactionId::new(),
        account_id: account_id.ok_or_else(ApiError::validated_missing)?,
        date_first: date_first.ok_or_else(ApiError::validated_missing)?,
        frequency: frequency.ok_or_else(ApiError::validated_missing)?,
        end_date,
        end_count: body.end_count,
        amount: total.ok_or_else(ApiError::validated_missing)?,
        payee_id,
        payee_name: payee_name.map(|n| n.as_str().to_owned()),
        new_payee_id: PayeeId::new(),
        category_id,
        memo: body.memo,
        transfer_account_id,
        lines,
    })
}
