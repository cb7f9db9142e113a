//! `PATCH /transactions/{transaction_id}`: change any field; only what is sent changes (`null`
//! clears payee, category, memo, import_id; `"transfer_account_id": null` makes a transfer an
//! ordinary transaction). `If-Match` honoured. All in one statement, so nothing is ever half done:
//! - `subtransactions` replaces every split line (`[]` un-splits); the old lines become
//!   tombstones. Lines kept follow their parent's account, date and cleared state.
//! - A transfer's other leg follows the amount (negated), the date and this leg's account (its
//!   payee is this account's transfer payee). A new transfer account makes a new other leg and
//!   leaves a tombstone of the old one.
//!
//! One Data API call.

use std::sync::LazyLock;

use chrono::NaiveDate;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::db::param;
use shared::domain::{AccountId, CategoryId, Cleared, Milliunits, Name, PayeeId, SqlEnum, TransactionId};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};
use shared::version::{self, BUMP, Precondition};

use super::body::{
    Line, MAX_IMPORT_ID_CHARS, MAX_MEMO_CHARS, NewLine, accounts_cte, categories_cte, check_text,
    problems_of, split_lines,
};
use super::{Transaction, lines_json, rules};
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
fn sent(key: &str) -> String {
    format!("(j -> '{key}') IS NOT NULL")
}

/// The lines of split `f` that are not deleted, as [`super::COLUMNS`] shows them.
const LIVE_LINES: &str = concat!(
    "SELECT ",
    lines_json!(),
    " FROM transactions l WHERE l.household_id = :household_id AND l.parent_id = f.id AND l.deleted_at IS NULL"
);

/// The lines this edit wrote, shown the same way.
const NEW_LINES: &str = concat!("SELECT ", lines_json!(), " FROM lines_new l");

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         c AS (SELECT :changes::jsonb AS j), \
         t AS ( \
           SELECT t.*, {matches} AS allowed, other.account_id AS old_target, \
                  other.category_id AS other_category \
           FROM transactions t LEFT JOIN transactions other ON other.id = t.transfer_transaction_id \
           WHERE t.id = :transaction_id AND t.household_id = :household_id AND t.parent_id IS NULL \
             AND t.deleted_at IS NULL AND EXISTS (SELECT 1 FROM me)), \
         line_items AS ( \
           SELECT 0 AS n, l.* FROM c, jsonb_to_recordset(COALESCE(c.j -> 'lines', '[]')) AS l (k int, id uuid, \
             amount bigint, category_id uuid, payee_id uuid, memo text)), \
         live_lines AS ( \
           SELECT l.amount FROM transactions l, t \
           WHERE l.household_id = :household_id AND l.parent_id = t.id AND l.deleted_at IS NULL), \
         given_payees AS ( \
           SELECT id, name, transfer_account_id FROM payees WHERE household_id = :household_id \
             AND id IN (SELECT (j ->> 'payee_id')::uuid FROM c UNION SELECT payee_id FROM line_items)), \
         n AS ( \
           SELECT t.id, t.allowed, t.old_target, t.transfer_transaction_id AS old_other_id, \
             t.other_category, t.account_id AS old_account_id, t.payee_id AS old_payee_id, c.j, \
             COALESCE((c.j ->> 'account_id')::uuid, t.account_id) AS account_id, \
             COALESCE((c.j ->> 'date')::date, t.date) AS date, \
             COALESCE((c.j ->> 'amount')::bigint, t.amount) AS amount, \
             CASE WHEN {transfer_sent} OR {payee_id_sent} OR {payee_name_sent} \
                  THEN COALESCE((c.j ->> 'transfer_account_id')::uuid, g.transfer_account_id) \
                  ELSE t.old_target END AS target_id, \
             CASE WHEN {category_sent} THEN (c.j ->> 'category_id')::uuid ELSE t.category_id END AS category_id, \
             CASE WHEN {memo_sent} THEN c.j ->> 'memo' ELSE t.memo END AS memo, \
             COALESCE(c.j ->> 'cleared', t.cleared) AS cleared, \
             COALESCE((c.j ->> 'approved')::boolean, t.approved) AS approved, \
             CASE WHEN {import_sent} THEN c.j ->> 'import_id' ELSE t.import_id END AS import_id, \
             {lines_sent} AS replace_lines, \
             CASE WHEN {lines_sent} THEN (SELECT count(*) FROM line_items) \
                  ELSE (SELECT count(*) FROM live_lines) END AS line_count, \
             CASE WHEN {lines_sent} THEN (SELECT sum(amount) FROM line_items) \
                  ELSE (SELECT sum(amount) FROM live_lines) END AS line_sum \
           FROM t CROSS JOIN c LEFT JOIN given_payees g ON g.id = (c.j ->> 'payee_id')::uuid), \
         {accts}, {cats}, \
         named AS ( \
           SELECT id, name FROM payees WHERE household_id = :household_id \
             AND name = (SELECT j ->> 'payee_name' FROM c)), \
         proposed AS ( \
           SELECT 0 AS n, n.account_id, n.account_id <> n.old_account_id AS account_is_new, n.target_id, \
             n.target_id IS DISTINCT FROM n.old_target AS target_is_new, {transfer_sent} AS transfer_sent, \
             n.line_count AS lines, n.replace_lines AS lines_sent, true AS check_lines, n.line_sum, n.amount, \
             (n.j ->> 'category_id')::uuid AS category_sent, (n.j ->> 'payee_id')::uuid AS payee_sent, \
             CASE WHEN NOT EXISTS (SELECT 1 FROM named) THEN n.j ->> 'payee_name' END AS new_payee \
           FROM n), \
         {problems}, \
         ok AS (SELECT (SELECT allowed FROM n) AND NOT EXISTS (SELECT 1 FROM problems) AS yes), \
         f AS ( \
           SELECT n.*, \
             CASE WHEN n.target_id IS NOT NULL THEN tgt.transfer_payee \
                  WHEN (n.j -> 'payee_id') IS NOT NULL THEN (n.j ->> 'payee_id')::uuid \
                  WHEN (n.j -> 'payee_name') IS NOT NULL THEN COALESCE(named.id, (n.j ->> 'new_payee_id')::uuid) \
                  WHEN n.old_target IS NOT NULL THEN NULL \
                  ELSE n.old_payee_id END AS payee_id, \
             CASE WHEN n.line_count > 0 THEN NULL \
                  WHEN n.target_id IS NULL OR (src.on_budget AND NOT tgt.on_budget) THEN n.category_id \
                  END AS final_category, \
             CASE WHEN NOT src.on_budget AND tgt.on_budget \
                  THEN CASE WHEN (n.j -> 'category_id') IS NOT NULL THEN (n.j ->> 'category_id')::uuid \
                            ELSE n.other_category END \
                  END AS other_leg_category, \
             src.transfer_payee AS own_transfer_payee \
           FROM n JOIN accts src ON src.id = n.account_id \
           LEFT JOIN accts tgt ON tgt.id = n.target_id LEFT JOIN named ON true \
           WHERE (SELECT yes FROM ok)), \
         new_payee AS ( \
           INSERT INTO payees (id, household_id, name) \
           SELECT (f.j ->> 'new_payee_id')::uuid, :household_id, f.j ->> 'payee_name' FROM f \
           WHERE (f.j -> 'payee_name') IS NOT NULL AND f.target_id IS NULL AND NOT EXISTS (SELECT 1 FROM named) \
           ON CONFLICT DO NOTHING RETURNING id), \
         main AS ( \
           UPDATE transactions x SET account_id = f.account_id, date = f.date, amount = f.amount, \
             payee_id = f.payee_id, category_id = f.final_category, memo = f.memo, cleared = f.cleared, \
             approved = f.approved, import_id = f.import_id, \
             transfer_transaction_id = CASE WHEN f.target_id IS NULL THEN NULL \
               WHEN f.target_id = f.old_target THEN f.old_other_id ELSE (f.j ->> 'transfer_id')::uuid END, \
             {BUMP} \
           FROM f WHERE x.id = f.id AND x.household_id = :household_id \
           RETURNING x.id, x.account_id, x.date, x.amount, x.payee_id, x.category_id, x.memo, x.cleared, \
             x.approved, x.import_id, x.transfer_transaction_id, {version_x} AS version, x.created_by), \
         other_kept AS ( \
           UPDATE transactions o SET date = f.date, amount = -f.amount, payee_id = f.own_transfer_payee, \
             category_id = f.other_leg_category, {BUMP} \
           FROM f WHERE o.id = f.old_other_id AND o.household_id = :household_id AND f.target_id = f.old_target \
             AND (o.date, o.amount, o.payee_id, o.category_id) \
                 IS DISTINCT FROM (f.date, -f.amount, f.own_transfer_payee, f.other_leg_category) \
           RETURNING o.id), \
         other_dropped AS ( \
           UPDATE transactions o SET deleted_at = now(), {BUMP} \
           FROM f WHERE o.id = f.old_other_id AND o.household_id = :household_id \
             AND f.target_id IS DISTINCT FROM f.old_target \
           RETURNING o.id), \
         other_new AS ( \
           INSERT INTO transactions (id, household_id, account_id, date, amount, payee_id, category_id, \
             memo, cleared, approved, transfer_transaction_id, created_by) \
           SELECT (f.j ->> 'transfer_id')::uuid, :household_id, f.target_id, f.date, -f.amount, \
             f.own_transfer_payee, f.other_leg_category, f.memo, 'uncleared', f.approved, f.id, :user_id \
           FROM f WHERE f.target_id IS NOT NULL AND f.target_id IS DISTINCT FROM f.old_target \
           RETURNING id), \
         lines_dropped AS ( \
           UPDATE transactions l SET deleted_at = now(), {BUMP} \
           FROM f WHERE l.household_id = :household_id AND l.parent_id = f.id AND l.deleted_at IS NULL \
             AND f.replace_lines \
           RETURNING l.id), \
         lines_new AS ( \
           INSERT INTO transactions (id, household_id, account_id, date, amount, payee_id, category_id, \
             memo, cleared, approved, parent_id, created_by) \
           SELECT l.id, :household_id, f.account_id, f.date, l.amount, COALESCE(l.payee_id, f.payee_id), \
             l.category_id, l.memo, f.cleared, f.approved, f.id, :user_id \
           FROM line_items l, f \
           RETURNING id, amount, category_id, payee_id, memo), \
         lines_moved AS ( \
           UPDATE transactions l SET account_id = f.account_id, date = f.date, cleared = f.cleared, \
             approved = f.approved, {BUMP} \
           FROM f WHERE l.household_id = :household_id AND l.parent_id = f.id AND l.deleted_at IS NULL \
             AND NOT f.replace_lines \
             AND (l.account_id, l.date, l.cleared, l.approved) \
                 IS DISTINCT FROM (f.account_id, f.date, f.cleared, f.approved) \
           RETURNING l.id) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM t), (SELECT allowed FROM t), \
           {problems_json}, \
           m.id, m.account_id, m.date, m.amount, m.payee_id, \
           CASE WHEN f.target_id IS NOT NULL THEN tgt.transfer_payee_name \
                ELSE COALESCE(p.name, f.j ->> 'payee_name') END, \
           m.category_id, m.memo, m.cleared, m.approved, m.import_id, m.transfer_transaction_id, \
           f.target_id, false, m.version, \
           (CASE WHEN f.replace_lines \
                 THEN ({NEW_LINES}) ELSE ({LIVE_LINES}) END)::text, \
           m.created_by, (SELECT display_name FROM users WHERE household_id = :household_id AND id = m.created_by) \
         FROM (SELECT 1) AS one LEFT JOIN main m ON true LEFT JOIN f ON f.id = m.id \
         LEFT JOIN accts tgt ON tgt.id = f.target_id \
         LEFT JOIN payees p ON p.household_id = :household_id AND p.id = m.payee_id) {ANSWER}",
        matches = version::matches("t"),
        version_x = version::version("x"),
        accts = accounts_cte("SELECT account_id FROM n UNION SELECT target_id FROM n"),
        cats = categories_cte("SELECT category_id FROM n UNION SELECT category_id FROM line_items"),
        transfer_sent = sent("transfer_account_id"),
        payee_id_sent = sent("payee_id"),
        payee_name_sent = sent("payee_name"),
        category_sent = sent("category_id"),
        memo_sent = sent("memo"),
        import_sent = sent("import_id"),
        lines_sent = sent("lines"),
        problems = rules::PROBLEMS.as_str(),
        problems_json = rules::problems_json("0"),
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
    if nothing_sent {
        fields.reject("body", "send at least one field to change");
    }
    fields.finish()?;
    let missing = || ApiError::Internal("validated fields missing".to_owned());
    Ok(Changes {
        account_id: account_id.ok_or_else(missing)?,
        date: date.ok_or_else(missing)?,
        amount: amount.ok_or_else(missing)?,
        payee_id: payee_id.ok_or_else(missing)?,
        payee_name: payee_name.ok_or_else(missing)?.map(|n| n.as_str().to_owned()),
        new_payee_id: PayeeId::new(),
        category_id: category_id.ok_or_else(missing)?,
        memo: body.memo,
        cleared: cleared.ok_or_else(missing)?,
        approved: body.approved,
        import_id: body.import_id,
        transfer_account_id: transfer_account_id.ok_or_else(missing)?,
        transfer_id: TransactionId::new(),
        lines,
    })
}

/// A field that may be left out, sent as `null`, or sent as a value to parse: `None` when the
/// value is invalid (and said so in `fields`), else `Some` of what was sent.
fn optional_nullable<T, E: ToString>(
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
