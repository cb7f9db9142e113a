//! `PATCH /transactions/{transaction_id}`: change any field; only what is sent changes (`null`
//! clears payee, category, memo, import_id; `"transfer_account_id": null` makes a transfer an
//! ordinary transaction). `If-Match` honoured. All in one statement, so nothing is ever half done:
//! - `subtransactions` replaces every split line (`[]` un-splits); the old lines become
//!   tombstones. Lines kept follow their parent's account, date and cleared state.
//! - A transfer's other leg follows the amount (negated), the date and this leg's account (its
//!   payee is this account's transfer payee). A new transfer account makes a new other leg and
//!   leaves a tombstone of the old one.
//!
//! How legs and lines follow is [`super::legs`]'s, shared with create. The statement merges the
//! sent fields over the stored row (`jsonb_populate_record`), checks the result (`proposed`, read
//! by [`rules::PROBLEMS`]) and writes it. One Data API call.

use std::sync::LazyLock;

use chrono::NaiveDate;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::db::param;
use shared::domain::{AccountId, CategoryId, Cleared, Milliunits, Name, PayeeId, SqlEnum, TransactionId};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};
use shared::version::{self, Precondition};

use super::body::{
    Line, MAX_IMPORT_ID_CHARS, MAX_MEMO_CHARS, NewLine, accounts_cte, categories_cte, check_text,
    problems_of, split_lines,
};
use super::{Transaction, legs, lines_json, rules};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use shared::domain::{self, amount};
use shared::http::present;

pub const ROUTE: Route = Route::new("PATCH", "/transactions/{transaction_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Change any field of a transaction")
        .about(
            "`null` clears payee, category, memo or import id; `subtransactions` replaces every \
             line (`[]` un-splits). A transfer's other leg follows its amount, date and account.",
        )
        .body::<Patch>(json!({"amount": -45_000, "memo": "corrected"}))
        .answers::<Transaction>(200, "The transaction as it is now.")
        .etag()
        .if_match()
        .problem(
            409,
            "The account already has a transaction with this `import_id`.",
        )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TransactionChanges)]
struct Patch {
    #[schema(value_type = Option<shared::domain::AccountId>)]
    account_id: Option<String>,
    #[schema(value_type = Option<chrono::NaiveDate>)]
    date: Option<String>,
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
    #[schema(value_type = Option<shared::domain::Cleared>)]
    cleared: Option<String>,
    approved: Option<bool>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "present")]
    import_id: Option<Option<String>>,
    #[schema(value_type = Option<shared::domain::AccountId>)]
    #[serde(default, deserialize_with = "present")]
    transfer_account_id: Option<Option<String>>,
    subtransactions: Option<Vec<NewLine>>,
}

/// The validated changes as the statement takes them: a key is there only when its field was sent
/// (`null` when sent as `null`). `new_payee_id` and `transfer_id` are ids ready for a payee or an
/// other leg the statement may create.
#[derive(Serialize)]
struct Changes {
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<NaiveDate>,
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
    cleared: Option<Cleared>,
    #[serde(skip_serializing_if = "Option::is_none")]
    approved: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    import_id: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_account_id: Option<Option<AccountId>>,
    transfer_id: TransactionId,
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<Line>>,
}

/// `sent(key)`: whether the changes (column `j`) hold `key`, a JSON `null` included. Written with
/// `->`, not the `?` operator, which SQL clients take for a placeholder.
pub(crate) fn sent(key: &str) -> String {
    format!("(j -> '{key}') IS NOT NULL")
}

/// The keys of [`Changes`] that are the row's own columns, merged over the stored row as sent;
/// only these, so that no other key could ever set a column such as `id` or `household_id`.
const MERGED: [&str; 9] = [
    "account_id",
    "date",
    "amount",
    "payee_id",
    "category_id",
    "memo",
    "cleared",
    "approved",
    "import_id",
];

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         c AS (SELECT :changes::jsonb AS j), \
         line_items AS ( \
           SELECT 0 AS n, l.* FROM c, jsonb_to_recordset(COALESCE(c.j -> 'lines', '[]')) AS l (k int, id uuid, \
             amount bigint, category_id uuid, payee_id uuid, memo text)), \
         lines_now AS ( \
           SELECT :transaction_id::uuid AS parent_id, id, amount, category_id, payee_id, memo FROM line_items \
           UNION ALL SELECT parent_id, id, amount, category_id, payee_id, memo FROM transactions, c \
           WHERE household_id = :household_id AND parent_id = :transaction_id AND deleted_at IS NULL \
             AND NOT {lines_sent}), \
         given_payees AS ( \
           SELECT id, name, transfer_account_id FROM payees WHERE household_id = :household_id \
             AND id IN (SELECT (j ->> 'payee_id')::uuid FROM c UNION SELECT payee_id FROM line_items)), \
         named AS ( \
           SELECT id, name FROM payees WHERE household_id = :household_id \
             AND name = (SELECT j ->> 'payee_name' FROM c)), \
         proposed AS ( \
           SELECT m.*, 0 AS n, j, {matches} AS allowed, \
             x.transfer_transaction_id AS old_other_id, other.account_id AS old_target, \
             other.category_id AS old_other_category, m.account_id <> x.account_id AS account_is_new, \
             target_id, target_id IS DISTINCT FROM other.account_id AS target_is_new, \
             {transfer_sent} AS transfer_sent, {lines_sent} AS lines_sent, true AS check_lines, \
             (SELECT count(*) FROM lines_now) AS lines, (SELECT sum(amount) FROM lines_now) AS line_sum, \
             (j ->> 'category_id')::uuid AS category_sent, (j ->> 'payee_id')::uuid AS payee_sent, \
             CASE WHEN NOT EXISTS (SELECT 1 FROM named) THEN j ->> 'payee_name' END AS new_payee \
           FROM transactions x CROSS JOIN c CROSS JOIN LATERAL jsonb_populate_record(x, ( \
             SELECT COALESCE(jsonb_object_agg(e.key, e.value), '{{}}') FROM jsonb_each(j) AS e \
             WHERE e.key IN ({columns}))) AS m \
           LEFT JOIN transactions other ON other.id = x.transfer_transaction_id \
           LEFT JOIN given_payees g ON g.id = (j ->> 'payee_id')::uuid \
           CROSS JOIN LATERAL (SELECT CASE WHEN {transfer_sent} OR {payee_id_sent} OR {payee_name_sent} \
             THEN COALESCE((j ->> 'transfer_account_id')::uuid, g.transfer_account_id) \
             ELSE other.account_id END AS target_id) AS transfer \
           WHERE x.id = :transaction_id AND x.household_id = :household_id AND x.parent_id IS NULL \
             AND x.deleted_at IS NULL AND EXISTS (SELECT 1 FROM me)), \
         {accts}, {cats}, {problems}, \
         parents AS ( \
           SELECT p.*, :user_id::uuid AS recorder, \
             CASE WHEN p.target_id IS NOT NULL THEN tgt.transfer_payee \
                  WHEN {payee_name_sent} THEN COALESCE(named.id, (j ->> 'new_payee_id')::uuid) \
                  WHEN NOT {payee_id_sent} AND p.old_target IS NOT NULL THEN NULL \
                  ELSE p.payee_id END AS payee, \
             CASE WHEN p.lines = 0 AND (p.target_id IS NULL OR (src.on_budget AND NOT tgt.on_budget)) \
                  THEN p.category_id END AS category, \
             CASE WHEN NOT src.on_budget AND tgt.on_budget \
                  THEN CASE WHEN {category_sent} THEN p.category_id ELSE p.old_other_category END \
                  END AS other_category, \
             CASE WHEN p.target_id = p.old_target THEN p.old_other_id \
                  WHEN p.target_id IS NOT NULL THEN (j ->> 'transfer_id')::uuid END AS other_id \
           FROM proposed p JOIN accts src ON src.id = p.account_id \
           LEFT JOIN accts tgt ON tgt.id = p.target_id LEFT JOIN named ON true \
           WHERE p.allowed AND NOT EXISTS (SELECT 1 FROM problems)), \
         new_payee AS ( \
           INSERT INTO payees (id, household_id, name) SELECT payee, :household_id, new_payee FROM parents \
           WHERE new_payee IS NOT NULL AND target_id IS NULL ON CONFLICT DO NOTHING RETURNING id), \
         main AS ( \
           UPDATE transactions x SET (account_id, date, amount, payee_id, category_id, memo, cleared, \
             approved, import_id, transfer_transaction_id) = (p.account_id, p.date, p.amount, p.payee, \
             p.category, p.memo, p.cleared, p.approved, p.import_id, p.other_id), {bump} \
           FROM parents p WHERE x.id = p.id AND x.household_id = :household_id \
           RETURNING x.*, {version_x} AS version), \
         {legs} \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM proposed), \
           (SELECT allowed FROM proposed), {problems_json}, m.id, m.account_id, m.date, m.amount, m.payee_id, \
           CASE WHEN p.target_id IS NOT NULL THEN tgt.transfer_payee_name ELSE COALESCE(py.name, p.new_payee) END, \
           m.category_id, m.memo, m.cleared, m.approved, m.import_id, m.transfer_transaction_id, \
           p.target_id, false, m.version, (SELECT {lines_json} FROM lines_now l)::text, m.created_by, \
           (SELECT display_name FROM users WHERE household_id = :household_id AND id = m.created_by) \
         FROM (SELECT 1) AS one LEFT JOIN main m ON true LEFT JOIN parents p ON p.id = m.id \
         LEFT JOIN accts tgt ON tgt.id = p.target_id \
         LEFT JOIN payees py ON py.household_id = :household_id AND py.id = m.payee_id) {ANSWER}",
        matches = version::matches("x"),
        version_x = version::version("x"),
        bump = version::bump("x"),
        accts = accounts_cte("SELECT account_id FROM proposed UNION SELECT target_id FROM proposed"),
        cats = categories_cte("SELECT category_id FROM proposed UNION SELECT category_id FROM line_items"),
        transfer_sent = sent("transfer_account_id"),
        payee_id_sent = sent("payee_id"),
        payee_name_sent = sent("payee_name"),
        category_sent = sent("category_id"),
        lines_sent = sent("lines"),
        problems = rules::PROBLEMS.as_str(),
        legs = legs::LEGS_AND_LINES.as_str(),
        problems_json = rules::problems_json("0"),
        lines_json = lines_json!(),
        columns = MERGED.map(|c| format!("'{c}'")).join(", "),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let id = ROUTE.id(&request, "transaction_id", TransactionId::parse)?;
    let changes = validate(json_body(&request)?)?;
    let params = access::caller(
        &claims,
        [
            param("transaction_id", &id),
            param("changes", &json!(changes).to_string()),
            Precondition::of(&request).param(),
        ],
    );
    let rows = app
        .db
        .execute(&UPDATE, params)
        .await
        .map_err(super::write_error)?;
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
    let transaction = Transaction::from_row(&row, 4)?;
    let version = transaction.version;
    Ok(Reply::ok(&transaction).with_version(version))
}

/// Checks the fields sent, each on its own; what needs the database is checked in the statement.
fn validate(body: Patch) -> Result<Changes, ApiError> {
    let mut fields = Fields::default();
    let account_id = fields.check_optional("account_id", body.account_id.as_deref().map(AccountId::parse));
    let date = fields.check_optional("date", body.date.as_deref().map(domain::date));
    let amount = fields.check_optional("amount", body.amount.map(amount));
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
    let cleared = fields.check_optional("cleared", body.cleared.as_deref().map(Cleared::parse));
    check_text(
        &mut fields,
        "memo",
        body.memo.as_ref().and_then(Option::as_deref),
        MAX_MEMO_CHARS,
    );
    check_text(
        &mut fields,
        "import_id",
        body.import_id.as_ref().and_then(Option::as_deref),
        MAX_IMPORT_ID_CHARS,
    );
    // Ending a transfer (`transfer_account_id: null`) may name a payee.
    let transfer_sent = matches!(body.transfer_account_id, Some(Some(_)));
    for (field, message) in
        rules::payee_problems(body.payee_id.is_some(), body.payee_name.is_some(), transfer_sent)
    {
        fields.reject(field, &message);
    }
    // An empty list un-splits; whether the lines add up is checked against the amount stored
    // when none is sent, so in the statement.
    let lines = body
        .subtransactions
        .map(|sent| split_lines("", sent, &mut fields).0);
    let nothing_sent = body.account_id.is_none()
        && body.date.is_none()
        && body.amount.is_none()
        && body.payee_id.is_none()
        && body.payee_name.is_none()
        && body.category_id.is_none()
        && body.memo.is_none()
        && body.cleared.is_none()
        && body.approved.is_none()
        && body.import_id.is_none()
        && body.transfer_account_id.is_none()
        && lines.is_none();
    fields.require_a_change(nothing_sent);
    fields.finish()?;
    Ok(Changes {
        account_id: account_id.ok_or_else(ApiError::validated_missing)?,
        date: date.ok_or_else(ApiError::validated_missing)?,
        amount: amount.ok_or_else(ApiError::validated_missing)?,
        payee_id: payee_id.ok_or_else(ApiError::validated_missing)?,
        payee_name: payee_name
            .ok_or_else(ApiError::validated_missing)?
            .map(|n| n.as_str().to_owned()),
        new_payee_id: PayeeId::new(),
        category_id: category_id.ok_or_else(ApiError::validated_missing)?,
        memo: body.memo,
        cleared: cleared.ok_or_else(ApiError::validated_missing)?,
        approved: body.approved,
        import_id: body.import_id,
        transfer_account_id: transfer_account_id.ok_or_else(ApiError::validated_missing)?,
        transfer_id: TransactionId::new(),
        lines,
    })
}

/// A field that may be left out, sent as `null`, or sent as a value to parse: `None` when the
/// value is invalid (and said so in `fields`), else `Some` of what was sent.
pub(crate) fn optional_nullable<T, E: ToString>(
    fields: &mut Fields,
    field: &str,
    sent: Option<&Option<String>>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<Option<Option<T>>> {
    match sent {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(text)) => match parse(text) {
            Ok(value) => Some(Some(Some(value))),
            Err(error) => {
                fields.reject(field, &error.to_string());
                None
            }
        },
    }
}
