//! Request-body pieces that `POST /transactions` and `PATCH /transactions/{id}` read alike: split
//! lines, the memo and import_id limits, and the problems their statements report.

use serde::{Deserialize, Serialize};
use shared::domain::{CategoryId, Milliunits, PayeeId, TransactionId};
use shared::http::{ApiError, FieldError, Fields};

use shared::domain::amount;

/// A split read back is one row (its lines aggregated as JSON), and the Data API refuses rows over
/// 64 KB: 25 lines with 500-character memos of four-byte characters come to about 58 KB.
pub const MAX_LINES: usize = 25;
pub const MAX_MEMO_CHARS: usize = 500;
pub const MAX_IMPORT_ID_CHARS: usize = 36;

/// One split line as a request sends it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewSubtransaction)]
pub struct NewLine {
    #[schema(value_type = shared::domain::Milliunits)]
    amount: i64,
    #[schema(value_type = Option<shared::domain::CategoryId>)]
    category_id: Option<String>,
    #[schema(value_type = Option<shared::domain::PayeeId>)]
    payee_id: Option<String>,
    #[schema(max_length = 500)]
    memo: Option<String>,
}

/// One validated split line as a statement takes it (`k`: its place in the request).
#[derive(Serialize)]
pub struct Line {
    pub k: usize,
    pub id: TransactionId,
    pub amount: Milliunits,
    pub category_id: Option<CategoryId>,
    pub payee_id: Option<PayeeId>,
    pub memo: Option<String>,
}

/// The CTE `accts` of a write's statement: the household's accounts among `ids` (a subquery),
/// whether each is on budget and closed, and its transfer payee (id and name).
pub fn accounts_cte(ids: &str) -> String {
    format!(
        "accts AS ( \
           SELECT a.id, a.on_budget, a.closed_at IS NOT NULL AS closed, p.id AS transfer_payee, \
                  p.name AS transfer_payee_name \
           FROM accounts a LEFT JOIN payees p ON p.household_id = a.household_id AND p.transfer_account_id = a.id \
           WHERE a.household_id = :household_id AND a.id IN ({ids}))"
    )
}

/// The CTE `cats`: the household's categories among `ids` (a subquery).
pub fn categories_cte(ids: &str) -> String {
    format!("cats AS (SELECT id FROM categories WHERE household_id = :household_id AND id IN ({ids}))")
}

/// Checks a split's lines, named `{prefix}subtransactions[k]`; answers the valid ones and the sum
/// of all the amounts sent. An empty list is left to the caller.
pub fn split_lines(prefix: &str, sent: Vec<NewLine>, fields: &mut Fields) -> (Vec<Line>, i64) {
    if sent.len() == 1 || sent.len() > MAX_LINES {
        fields.reject(
            &format!("{prefix}subtransactions"),
            &format!("a split has 2 to {MAX_LINES} lines"),
        );
    }
    let mut sum: i64 = 0;
    let mut lines = Vec::with_capacity(sent.len());
    for (k, line) in sent.into_iter().enumerate() {
        let name = |field: &str| format!("{prefix}subtransactions[{k}].{field}");
        sum = sum.saturating_add(line.amount);
        let amount = fields.check(&name("amount"), amount(line.amount));
        let category_id = line
            .category_id
            .as_deref()
            .and_then(|t| fields.check(&name("category_id"), CategoryId::parse(t)));
        let payee_id = line
            .payee_id
            .as_deref()
            .and_then(|t| fields.check(&name("payee_id"), PayeeId::parse(t)));
        check_text(fields, &name("memo"), line.memo.as_deref(), MAX_MEMO_CHARS);
        if let Some(amount) = amount {
            lines.push(Line {
                k,
                id: TransactionId::new(),
                amount,
                category_id,
                payee_id,
                memo: line.memo,
            });
        }
    }
    (lines, sum)
}

/// Rejects `text` longer than `max_chars` characters, or holding control characters other than
/// line breaks and tabs (`shared::domain::free_text`).
pub fn check_text(fields: &mut Fields, field: &str, text: Option<&str>, max_chars: usize) {
    if let Some(text) = text {
        fields.check(field, shared::domain::free_text(text, max_chars));
    }
}

/// A statement's problems (`[{n, field, message}]`, `n` the transaction's place in the request) as
/// field errors.
pub fn problems_of(json: &str, prefix: &dyn Fn(usize) -> String) -> Result<Vec<FieldError>, ApiError> {
    #[derive(Deserialize)]
    struct Problem {
        n: usize,
        field: String,
        message: String,
    }
    let problems: Vec<Problem> = serde_json::from_str(json)
        .map_err(|e| ApiError::Internal(format!("problems did not decode: {e}")))?;
    Ok(problems
        .into_iter()
        .map(|p| FieldError {
            field: format!("{}{}", prefix(p.n), p.field),
            message: p.message,
        })
        .collect())
}
