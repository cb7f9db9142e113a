//! The rules a transaction obeys, each with its one message. A rule the request alone decides is
//! checked in Rust before the statement; one that depends on stored rows (an account closed, a
//! category of this household, a split's stored lines) is checked inside the write's statement,
//! whose `problems` rows quote these messages through [`sql`]. Create, bulk create and update use
//! the same constants, so a message is written here and nowhere else.

use crate::payees::MAX_PAYEES;

pub const NOT_AN_ACCOUNT: &str = "is not an account of this household";
pub const NOT_A_PAYEE: &str = "is not a payee of this household";
pub const NOT_A_CATEGORY: &str = "is not a category of this household";
pub const CLOSED: &str = "is closed, and takes no new transactions";
pub const TRANSFER_TO_ITSELF: &str = "a transfer goes to another account than its own";
pub const TRANSFER_SPLIT: &str = "a transfer cannot be split";
pub const TRANSFER_CATEGORY: &str =
    "a transfer takes a category only between an on-budget and an off-budget account";
pub const TRANSFER_PAYEE: &str = "a transfer's payee is the other account; send no payee";
pub const SPLIT_CATEGORY: &str = "a split's categories are on its lines; send none here";
pub const PAYEE_ONE_OF: &str = "send payee_id or payee_name, not both";
/// Appended when the stored lines no longer add up to a new amount.
pub const SEND_LINES: &str = "; send subtransactions that add up to it";

/// A new payee name when the household has as many payees as it may.
pub fn too_many_payees() -> String {
    format!("the household already has {MAX_PAYEES} payees, the most it can have")
}

/// The words of [`sum_mismatch`], around the line sum, the amount and their difference.
const SUM_WORDS: [&str; 4] = [
    "the lines sum to ",
    ", not to the amount ",
    " (a difference of ",
    ")",
];

/// Lines that do not add up to their transaction's amount, for Rust.
pub fn sum_mismatch(sum: i64, amount: i64) -> String {
    let difference = amount.saturating_sub(sum);
    let [before_sum, before_amount, before_difference, after] = SUM_WORDS;
    format!("{before_sum}{sum}{before_amount}{amount}{before_difference}{difference}{after}")
}

/// The same message as a SQL expression over the statement's `sum` and `amount` expressions.
pub fn sum_mismatch_sql(sum: &str, amount: &str) -> String {
    let [before_sum, before_amount, before_difference, after] = SUM_WORDS.map(sql);
    format!(
        "{before_sum} || {sum} || {before_amount} || {amount} || {before_difference} || ({amount} - {sum}) || {after}"
    )
}

/// `message` as a SQL string literal.
pub fn sql(message: impl AsRef<str>) -> String {
    format!("'{}'", message.as_ref().replace('\'', "''"))
}
