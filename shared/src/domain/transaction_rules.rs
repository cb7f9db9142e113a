//! The rules a transaction obeys, each with its one message, and the checks the request alone
//! decides (before any statement). Rules that depend on stored rows (an account closed, a
//! category of this household, a split's stored lines) are checked inside the write's statement,
//! whose `problems` rows quote these same messages through [`sql`] (`functions::transactions::rules`).
//! Create, bulk create and update use the same constants and checks, so a rule is written here
//! and nowhere else.

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

/// A problem with one field of a request: the field (relative to the transaction) and why.
pub type Problem = (&'static str, String);

/// How a transaction names its payee: at most one of `payee_id` and `payee_name`, and neither for
/// a transfer (its payee is the other account).
pub fn payee_problems(payee_id_sent: bool, payee_name_sent: bool, transfer_sent: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    if payee_id_sent && payee_name_sent {
        problems.push(("payee_name", PAYEE_ONE_OF.to_owned()));
    }
    if transfer_sent && (payee_id_sent || payee_name_sent) {
        problems.push(("transfer_account_id", TRANSFER_PAYEE.to_owned()));
    }
    problems
}

/// A split sent whole (its lines and its amount in one request): its categories are on its
/// lines, and its lines add up to its amount.
pub fn split_problems(amount: i64, line_sum: i64, category_sent: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    if category_sent {
        problems.push(("category_id", SPLIT_CATEGORY.to_owned()));
    }
    if line_sum != amount {
        problems.push(("subtransactions", sum_mismatch(line_sum, amount)));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payee_is_named_one_way_and_never_for_a_transfer() {
        assert_eq!(payee_problems(false, false, false), Vec::new());
        assert_eq!(payee_problems(true, false, false), Vec::new());
        assert_eq!(payee_problems(false, true, false), Vec::new());
        assert_eq!(payee_problems(false, false, true), Vec::new());
        assert_eq!(
            payee_problems(true, true, false),
            vec![("payee_name", PAYEE_ONE_OF.to_owned())]
        );
        let both_and_transfer = payee_problems(true, true, true);
        assert_eq!(
            both_and_transfer.iter().map(|p| p.0).collect::<Vec<_>>(),
            ["payee_name", "transfer_account_id"]
        );
        assert_eq!(
            payee_problems(false, true, true),
            vec![("transfer_account_id", TRANSFER_PAYEE.to_owned())]
        );
    }

    #[test]
    fn a_split_adds_up_and_keeps_its_categories_on_its_lines() {
        assert_eq!(split_problems(-3_000, -3_000, false), Vec::new());
        assert_eq!(
            split_problems(-3_000, -3_000, true),
            vec![("category_id", SPLIT_CATEGORY.to_owned())]
        );
        let off = split_problems(-3_000, -2_500, false);
        assert_eq!(
            off,
            vec![(
                "subtransactions",
                "the lines sum to -2500, not to the amount -3000 (a difference of -500)".to_owned()
            )]
        );
    }

    #[test]
    fn the_sum_message_reads_the_same_at_the_extremes() {
        // The difference saturates instead of overflowing.
        let message = sum_mismatch(i64::MAX, i64::MIN);
        assert!(
            message.ends_with(&format!("(a difference of {})", i64::MIN)),
            "{message}"
        );
    }

    #[test]
    fn a_message_becomes_a_sql_literal_with_its_quotes_doubled() {
        assert_eq!(sql("a transfer's payee"), "'a transfer''s payee'");
        assert_eq!(sql(""), "''");
    }

    #[test]
    fn the_sql_sum_message_is_the_rust_one_word_for_word() {
        let expression = sum_mismatch_sql("s", "a");
        for word in SUM_WORDS {
            assert!(expression.contains(&sql(word)), "{expression} lacks {word}");
        }
        assert!(expression.contains("(a - s)"), "{expression}");
    }
}
