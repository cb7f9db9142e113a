//! `POST /transactions`: one transaction, or `{"transactions": [...]}` (up to 500) all or nothing.
//! A transfer (`transfer_account_id`, or the other account's transfer payee as `payee_id`) makes
//! both legs; a split (`subtransactions`) makes the parent and its lines; `payee_name` finds the
//! payee or creates it. An `import_id` already in the account (or earlier in the same request) is
//! a 409 for one transaction and skipped, and listed, in a bulk request, also when two requests
//! race (the unique index decides). One Data API call, whatever the size.

use std::sync::LazyLock;

use chrono::NaiveDate;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::db::{Row, param};
use shared::domain::{AccountId, CategoryId, Cleared, Milliunits, Name, PayeeId, SqlEnum, TransactionId};
use shared::http::{ApiError, Fields, Reply, Route, bearer, from_json_value, json_body_within};

use super::body::{
    Line, MAX_IMPORT_ID_CHARS, MAX_MEMO_CHARS, NewLine, accounts_cte, categories_cte, check_text,
    problems_of, split_lines,
};
use super::{Subtransaction, Transaction, legs, rules};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use shared::domain::{self, amount};

pub const ROUTE: Route = Route::new("POST", "/transactions");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Record a transaction, or up to 500 at once")
        .about(
            "One transaction answers it; `{\"transactions\": [...]}` answers `{transactions, \
             duplicate_import_ids}`, all or nothing apart from the skipped duplicates. A transfer \
             (`transfer_account_id`) makes both legs; `subtransactions` make a split.",
        )
        .body_one_of::<NewTransaction, Bulk>(json!({"account_id": "0193a5b2-7c4e-7d1a-9f00-3c5e8a2b4d61", "date": "2026-11-20", "amount": -42_500, "payee_name": "Corner Shop"}))
        .answers_one_of::<Transaction, Created>(201, "The transaction, or for a list what was stored and which import ids were skipped.")
        .etag()
        .problem(409, "The account already has a transaction with this `import_id`.")
}

pub const MAX_BULK: usize = 500;
/// Bodies beyond this could never fit the Data API request that stores them.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The Data API refuses a request over 4 MiB, headers and JSON included (AWS documents it).
const DATA_API_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// What the Data API request carries besides the statement and the items: headers with the
/// signature, the ARNs, parameter names and JSON punctuation (generously).
const DATA_API_REQUEST_OVERHEAD: usize = 8 * 1024;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTransactions)]
struct Bulk {
    #[schema(min_items = 1, max_items = 500)]
    transactions: Vec<NewTransaction>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTransaction {
    #[schema(value_type = shared::domain::AccountId)]
    account_id: String,
    #[schema(value_type = chrono::NaiveDate)]
    date: String,
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
    #[schema(value_type = Option<shared::domain::Cleared>)]
    cleared: Option<String>,
    approved: Option<bool>,
    #[schema(max_length = 36)]
    import_id: Option<String>,
    #[schema(value_type = Option<shared::domain::AccountId>)]
    transfer_account_id: Option<String>,
    #[serde(default)]
    subtransactions: Vec<NewLine>,
}

/// One validated transaction as the statement takes it (`n`: its place in the request).
#[derive(Serialize)]
struct Item {
    n: usize,
    id: TransactionId,
    account_id: AccountId,
    date: NaiveDate,
    amount: Milliunits,
    payee_id: Option<PayeeId>,
    payee_name: Option<String>,
    new_payee_id: PayeeId,
    category_id: Option<CategoryId>,
    memo: Option<String>,
    cleared: Cleared,
    approved: bool,
    import_id: Option<String>,
    transfer_account_id: Option<AccountId>,
    transfer_id: TransactionId,
    lines: Vec<Line>,
}

static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         items AS ( \
           SELECT * FROM jsonb_to_recordset(:items::jsonb) AS i (n int, id uuid, account_id uuid, \
             date date, amount bigint, payee_id uuid, payee_name text, new_payee_id uuid, \
             category_id uuid, memo text, cleared text, approved boolean, import_id text, \
             transfer_account_id uuid, transfer_id uuid, lines jsonb) \
           WHERE EXISTS (SELECT 1 FROM me)), \
         line_items AS ( \
           SELECT i.n, i.id AS parent_id, l.* FROM items i, \
             jsonb_to_recordset(i.lines) AS l (k int, id uuid, amount bigint, category_id uuid, \
                                              payee_id uuid, memo text)), \
         given_payees AS ( \
           SELECT id, name, transfer_account_id FROM payees WHERE household_id = :household_id \
             AND id IN (SELECT payee_id FROM items UNION SELECT payee_id FROM line_items)), \
         resolved AS ( \
           SELECT i.*, COALESCE(i.transfer_account_id, g.transfer_account_id) AS target_id \
           FROM items i LEFT JOIN given_payees g ON g.id = i.payee_id), \
         {accts}, {cats}, \
         dupes AS ( \
           SELECT i.n FROM items i WHERE i.import_id IS NOT NULL AND ( \
             EXISTS (SELECT 1 FROM transactions t WHERE t.household_id = :household_id \
                     AND t.account_id = i.account_id AND t.import_id = i.import_id) \
             OR EXISTS (SELECT 1 FROM items e WHERE e.account_id = i.account_id \
                        AND e.import_id = i.import_id AND e.n < i.n))), \
         named AS (SELECT id, name FROM payees WHERE household_id = :household_id \
                   AND name IN (SELECT payee_name FROM items)), \
         new_names AS ( \
           SELECT DISTINCT ON (payee_name) payee_name, new_payee_id FROM items \
           WHERE payee_name IS NOT NULL AND payee_name NOT IN (SELECT name FROM named) \
             AND n NOT IN (SELECT n FROM dupes) \
           ORDER BY payee_name, n), \
         proposed AS ( \
           SELECT r.n, r.account_id, true AS account_is_new, r.target_id, true AS target_is_new, \
             true AS transfer_sent, jsonb_array_length(r.lines) AS lines, true AS lines_sent, \
             false AS check_lines, NULL::bigint AS line_sum, r.amount, r.category_id AS category_sent, \
             r.payee_id AS payee_sent, \
             CASE WHEN r.payee_name NOT IN (SELECT name FROM named) AND r.n NOT IN (SELECT n FROM dupes) \
                  THEN r.payee_name END AS new_payee \
           FROM resolved r), \
         {problems}, \
         ok AS (SELECT NOT EXISTS (SELECT 1 FROM problems) AS yes), \
         new_payees AS ( \
           INSERT INTO payees (id, household_id, name) \
           SELECT new_payee_id, :household_id, payee_name FROM new_names WHERE (SELECT yes FROM ok) \
           ON CONFLICT DO NOTHING RETURNING id), \
         main AS ( \
           INSERT INTO transactions (id, household_id, account_id, date, amount, payee_id, category_id, \
             memo, cleared, approved, import_id, transfer_transaction_id, created_by) \
           SELECT r.id, :household_id, r.account_id, r.date, r.amount, \
                  CASE WHEN r.target_id IS NOT NULL THEN tgt.transfer_payee \
                       ELSE COALESCE(r.payee_id, named.id, new_names.new_payee_id) END, \
                  CASE WHEN r.target_id IS NULL OR src.on_budget THEN r.category_id END, \
                  r.memo, r.cleared, r.approved, r.import_id, \
                  CASE WHEN r.target_id IS NOT NULL THEN r.transfer_id END, :user_id \
           FROM resolved r JOIN accts src ON src.id = r.account_id \
           LEFT JOIN accts tgt ON tgt.id = r.target_id \
           LEFT JOIN named ON named.name = r.payee_name \
           LEFT JOIN new_names ON new_names.payee_name = r.payee_name \
           WHERE (SELECT yes FROM ok) AND r.n NOT IN (SELECT n FROM dupes) \
           ON CONFLICT (account_id, import_id) DO NOTHING \
           RETURNING id, payee_id, category_id, transfer_transaction_id, {version} AS version), \
         parents AS ( \
           SELECT r.id, :household_id::uuid AS household_id, :user_id::uuid AS recorder, r.account_id, \
             r.date, r.amount, m.payee_id AS payee, r.memo, r.approved, \
             r.cleared, r.target_id, m.transfer_transaction_id AS other_id, NULL::uuid AS old_other_id, \
             CASE WHEN NOT src.on_budget THEN r.category_id END AS other_category \
           FROM resolved r JOIN main m ON m.id = r.id JOIN accts src ON src.id = r.account_id), \
         lines_now AS (SELECT parent_id, id, amount, category_id, payee_id, memo FROM line_items), \
         {legs} \
         , answer AS (SELECT (SELECT role FROM caller), {problems_json}, r.n, m.id, m.payee_id, \
                COALESCE(tgt.transfer_payee_name, g.name, r.payee_name), \
                m.category_id, m.version, r.target_id, \
                (SELECT display_name FROM users WHERE id = :user_id AND household_id = :household_id), \
                m.transfer_transaction_id, \
                (SELECT json_agg(l.id ORDER BY l.k) FROM line_items l WHERE l.n = r.n)::text \
         FROM (SELECT 1) AS one LEFT JOIN resolved r ON true \
         LEFT JOIN main m ON m.id = r.id \
         LEFT JOIN accts tgt ON tgt.id = r.target_id \
         LEFT JOIN given_payees g ON g.id = r.payee_id \
         ORDER BY r.n) {ANSWER}",
        accts = accounts_cte("SELECT account_id FROM items UNION SELECT target_id FROM resolved"),
        cats = categories_cte("SELECT category_id FROM items UNION SELECT category_id FROM line_items"),
        version = shared::version_of!(),
        problems = rules::PROBLEMS.as_str(),
        legs = legs::LEGS_AND_LINES.as_str(),
        problems_json = rules::problems_json("r.n"),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CreatedTransactions)]
struct Created {
    transactions: Vec<Transaction>,
    duplicate_import_ids: Vec<String>,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    // Parsed once: whether it is one transaction or a list decides the shape it is read into.
    let body: Value = json_body_within(&request, MAX_BODY_BYTES)?;
    let bulk = body.get("transactions").is_some();
    let bodies = if bulk {
        let body: Bulk = from_json_value(body)?;
        if body.transactions.is_empty() || body.transactions.len() > MAX_BULK {
            return Err(ApiError::invalid(
                "transactions",
                format!("must hold 1 to {MAX_BULK} transactions"),
            ));
        }
        body.transactions
    } else {
        vec![from_json_value::<NewTransaction>(body)?]
    };
    let mut fields = Fields::default();
    let prefix = |n: usize| {
        if bulk {
            format!("transactions[{n}].")
        } else {
            String::new()
        }
    };
    let items: Vec<Item> = bodies
        .into_iter()
        .enumerate()
        .filter_map(|(n, body)| validate(n, body, &prefix(n), &mut fields))
        .collect();
    fields.finish()?;

    let items_json = json!(items).to_string();
    // Refused here, with an answer that says what to do, rather than by the Data API. Both the
    // statement and the items travel as JSON strings, escaped once more.
    let encoded = |text: &str| serde_json::to_string(text).map_or(usize::MAX, |t| t.len());
    let request_bytes = encoded(&CREATE)
        .saturating_add(encoded(&items_json))
        .saturating_add(DATA_API_REQUEST_OVERHEAD);
    if request_bytes > DATA_API_REQUEST_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: DATA_API_REQUEST_BYTES - DATA_API_REQUEST_OVERHEAD - encoded(&CREATE),
            what: "transactions sent in one request, as encoded for the database,",
        });
    }
    let params = access::caller(&claims, [param("items", &items_json)]);
    let rows = app
        .db
        .execute(&CREATE, params)
        .await
        .map_err(super::write_error)?;
    let rows = access::answer(&rows)?;
    access::member_row(&rows)?;
    // One row per transaction sent, each with its own problems: paired by `n`, not by position.
    let mut answered: Vec<(Option<i64>, Row<'_>)> = rows
        .iter()
        .map(|row| Ok((row.get(2)?, row)))
        .collect::<Result<_, ApiError>>()?;
    answered.sort_by_key(|(n, _)| *n);
    let mut problems = Vec::new();
    for (_, row) in &answered {
        if let Some(json) = row.get::<Option<String>>(1)? {
            problems.extend(problems_of(&json, &prefix)?);
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let mut created = Created {
        transactions: Vec::new(),
        duplicate_import_ids: Vec::new(),
    };
    for ((_, row), item) in answered.into_iter().zip(items) {
        let Some(id) = row.get::<Option<TransactionId>>(3)? else {
            match item.import_id {
                Some(import_id) => created.duplicate_import_ids.push(import_id),
                None => return Err(ApiError::Internal("a transaction was not stored".to_owned())),
            }
            continue;
        };
        let target: Option<AccountId> = row.get(8)?;
        created.transactions.push(Transaction {
            id,
            account_id: item.account_id,
            date: item.date,
            amount: item.amount,
            payee_id: row.get(4)?,
            payee_name: row.get(5)?,
            category_id: row.get(6)?,
            memo: item.memo,
            cleared: item.cleared,
            approved: item.approved,
            import_id: item.import_id,
            transfer_transaction_id: row.get(10)?,
            transfer_account_id: target,
            deleted: false,
            subtransactions: item
                .lines
                .into_iter()
                .zip(line_ids(&row)?)
                .map(|(l, id)| Subtransaction {
                    id,
                    amount: l.amount,
                    category_id: l.category_id,
                    payee_id: l.payee_id,
                    memo: l.memo,
                })
                .collect(),
            version: row.get(7)?,
            recorded_by: claims.sub,
            recorded_by_name: row.get(9)?,
        });
    }
    if bulk {
        return Ok(Reply::created(&created));
    }
    match created.transactions.pop() {
        Some(transaction) => {
            let version = transaction.version;
            Ok(Reply::created(&transaction).with_version(version))
        }
        None => Err(ApiError::Conflict(super::DUPLICATE_IMPORT_ID.to_owned())),
    }
}

/// Checks one transaction's own fields; `None` (with the reasons in `fields`) when invalid.
fn validate(n: usize, body: NewTransaction, prefix: &str, fields: &mut Fields) -> Option<Item> {
    let errors_before = fields.len();
    let name = |field: &str| format!("{prefix}{field}");
    let account_id = fields.check(&name("account_id"), AccountId::parse(&body.account_id));
    let date = fields.check(&name("date"), domain::date(&body.date));
    let total = fields.check(&name("amount"), amount(body.amount));
    let payee_id = body
        .payee_id
        .as_deref()
        .and_then(|t| fields.check(&name("payee_id"), PayeeId::parse(t)));
    let payee_name = body
        .payee_name
        .as_deref()
        .and_then(|t| fields.check(&name("payee_name"), Name::parse(t)));
    let category_id = body
        .category_id
        .as_deref()
        .and_then(|t| fields.check(&name("category_id"), CategoryId::parse(t)));
    let transfer_account_id = body
        .transfer_account_id
        .as_deref()
        .and_then(|t| fields.check(&name("transfer_account_id"), AccountId::parse(t)));
    let cleared = body.cleared.as_deref().map_or(Some(Cleared::Uncleared), |t| {
        fields.check(&name("cleared"), Cleared::parse(t))
    });
    check_text(fields, &name("memo"), body.memo.as_deref(), MAX_MEMO_CHARS);
    check_text(
        fields,
        &name("import_id"),
        body.import_id.as_deref(),
        MAX_IMPORT_ID_CHARS,
    );
    let mut problems = rules::payee_problems(
        body.payee_id.is_some(),
        body.payee_name.is_some(),
        body.transfer_account_id.is_some(),
    );
    let mut lines = Vec::new();
    if !body.subtransactions.is_empty() {
        let (valid, sum) = split_lines(prefix, body.subtransactions, fields);
        lines = valid;
        problems.extend(rules::split_problems(
            body.amount,
            sum,
            body.category_id.is_some(),
        ));
    }
    for (field, message) in problems {
        fields.reject(&name(field), &message);
    }
    if fields.len() > errors_before {
        return None;
    }
    Some(Item {
        n,
        id: TransactionId::new(),
        account_id: account_id?,
        date: date?,
        amount: total?,
        payee_id,
        payee_name: payee_name.map(|n| n.as_str().to_owned()),
        new_payee_id: PayeeId::new(),
        category_id,
        memo: body.memo,
        cleared: cleared?,
        approved: body.approved.unwrap_or(false),
        import_id: body.import_id,
        transfer_account_id,
        transfer_id: TransactionId::new(),
        lines,
    })
}

/// The ids the statement gave a split's lines (column 11), in the order they were sent: read from
/// the answer, so that a repeat of the request answers the ids the first one stored.
fn line_ids(row: &Row<'_>) -> Result<Vec<TransactionId>, ApiError> {
    match row.get::<Option<String>>(11)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|error| ApiError::Internal(format!("the ids of a split's lines: {error}"))),
        None => Ok(Vec::new()),
    }
}
