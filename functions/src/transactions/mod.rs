//! Transactions: money moving in and out of an account. A split is a parent row without a
//! category and its lines (rows with `parent_id`, on the parent's account and date); a transfer is
//! two rows, one in each account, linked by `transfer_transaction_id`. Deleting is soft
//! (`deleted_at`), so sync clients see tombstones; balances and budgets skip deleted rows.

pub mod body;
pub mod create;
pub mod delete;
pub mod get;
pub mod legs;
pub mod list;
pub mod rules;
pub mod update;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shared::db::{DbError, Row};
use shared::domain::{AccountId, CategoryId, Cleared, Milliunits, PayeeId, TransactionId, UserId};
use shared::http::ApiError;
use shared::version::Version;

/// A split's lines `l` as the JSON array [`Subtransaction`] reads, oldest first. A macro, so that
/// [`COLUMNS`] can stay a constant built from it.
macro_rules! lines_json {
    () => {
        "COALESCE(json_agg(json_build_object('id', l.id, 'amount', l.amount, \
         'category_id', l.category_id, 'payee_id', l.payee_id, 'memo', l.memo) ORDER BY l.id), '[]')"
    };
}
pub(crate) use lines_json;

/// The columns of [`Transaction::from_row`] for transaction `t`, with `p` its payee (LEFT JOIN
/// payees) and `other` its transfer's other leg (LEFT JOIN transactions). A split's lines are those
/// deleted with it: the live lines of a live split, and for a tombstone the lines its deletion deleted
/// (one statement, one `now()`), not those an earlier edit replaced.
pub const COLUMNS: &str = concat!(
    "t.id, t.account_id, t.date, t.amount, t.payee_id, p.name, t.category_id, \
     t.memo, t.cleared, t.approved, t.import_id, t.transfer_transaction_id, other.account_id, \
     t.deleted_at IS NOT NULL, ",
    shared::version_of!("t"),
    ", (SELECT ",
    lines_json!(),
    "::text FROM transactions l WHERE l.household_id = t.household_id AND l.parent_id = t.id \
        AND l.deleted_at IS NOT DISTINCT FROM t.deleted_at), t.created_by, recorder.display_name"
);

/// Joins a transaction `t` to what [`COLUMNS`] reads besides it.
pub const JOINS: &str = "LEFT JOIN payees p ON p.id = t.payee_id \
     LEFT JOIN transactions other ON other.id = t.transfer_transaction_id \
     LEFT JOIN users recorder ON recorder.household_id = t.household_id AND recorder.id = t.created_by";

/// One line of a split.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Subtransaction {
    pub id: TransactionId,
    pub amount: Milliunits,
    pub category_id: Option<CategoryId>,
    pub payee_id: Option<PayeeId>,
    pub memo: Option<String>,
}

/// The answer to a transaction whose `import_id` its account already has.
pub const DUPLICATE_IMPORT_ID: &str = "The account already has a transaction with this import_id.";

/// What a failed transaction write tells the client: 409 for the races a retry resolves (a payee
/// of the same name created by another request at this moment) and for a duplicate `import_id`.
pub fn write_error(error: DbError) -> ApiError {
    match error {
        DbError::UniqueViolation { constraint } if constraint.contains("import_id") => {
            ApiError::Conflict(DUPLICATE_IMPORT_ID.to_owned())
        }
        DbError::Database { sql_state, .. } if sql_state == "23503" => ApiError::Conflict(
            "Another request created a payee of this name at the same time; send this one again.".to_owned(),
        ),
        other => other.into(),
    }
}

/// A transaction as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Transaction {
    pub id: TransactionId,
    pub account_id: AccountId,
    pub date: NaiveDate,
    pub amount: Milliunits,
    pub payee_id: Option<PayeeId>,
    pub payee_name: Option<String>,
    pub category_id: Option<CategoryId>,
    pub memo: Option<String>,
    pub cleared: Cleared,
    pub approved: bool,
    pub import_id: Option<String>,
    pub transfer_transaction_id: Option<TransactionId>,
    pub transfer_account_id: Option<AccountId>,
    pub deleted: bool,
    pub subtransactions: Vec<Subtransaction>,
    /// The member who recorded it; kept when they leave (a former member's record).
    pub recorded_by: UserId,
    /// Their display name, also after they left the household.
    pub recorded_by_name: String,
    #[serde(skip)]
    pub version: Version,
}

impl Transaction {
    /// Reads [`COLUMNS`] starting at column `at`.
    ///
    /// # Errors
    /// When the row does not have that shape.
    pub fn from_row(row: &Row<'_>, at: usize) -> Result<Self, ApiError> {
        let lines: String = row.get(at + 15)?;
        let subtransactions = serde_json::from_str(&lines)
            .map_err(|e| ApiError::Internal(format!("split lines did not decode: {e}")))?;
        Ok(Self {
            id: row.get(at)?,
            account_id: row.get(at + 1)?,
            date: row.get(at + 2)?,
            amount: row.get(at + 3)?,
            payee_id: row.get(at + 4)?,
            payee_name: row.get(at + 5)?,
            category_id: row.get(at + 6)?,
            memo: row.get(at + 7)?,
            cleared: row.get(at + 8)?,
            approved: row.get(at + 9)?,
            import_id: row.get(at + 10)?,
            transfer_transaction_id: row.get(at + 11)?,
            transfer_account_id: row.get(at + 12)?,
            deleted: row.get(at + 13)?,
            version: row.get(at + 14)?,
            subtransactions,
            recorded_by: row.get(at + 16)?,
            recorded_by_name: row.get(at + 17)?,
        })
    }
}
