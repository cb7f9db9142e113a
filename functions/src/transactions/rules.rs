//! The statement part of the transaction rules: [`PROBLEMS`], which checks inside a write's
//! statement the rules that depend on stored rows, quoting the messages of
//! [`shared::domain::transaction_rules`] (where every rule's message, and the checks the request
//! alone decides, are written once).

pub use shared::domain::transaction_rules::*;

use crate::payees::MAX_PAYEES;

/// A new payee name when the household has as many payees as it may.
pub fn too_many_payees() -> String {
    format!("the household already has {MAX_PAYEES} payees, the most it can have")
}

/// The `problems` CTE of every statement that writes transactions: one `(n, field, message)` row
/// for each rule that stored rows break, none when the write may go ahead. It reads what the
/// statement proposes to store, in CTEs the statement defines:
///
/// - `proposed`: one row per transaction. `n`, its place in the request (0 for an update);
///   `account_id` and `target_id` (a transfer's other account, NULL for none), each with whether
///   it is new to the transaction (`account_is_new`, `target_is_new`: only a new account must be
///   open); `transfer_sent`, whether the request named the transfer (else its payee did);
///   `lines`, its lines' count, and `lines_sent`, whether the request sent them; `check_lines`,
///   whether the lines' own rules are this statement's (they are not when the request alone
///   decides them, as in a create: see `create::validate`), with `line_sum` and `amount`;
///   `category_sent` and `payee_sent`, the ids the request names; `new_payee`, a payee name the
///   write would add.
/// - `line_items (n, k, category_id, payee_id)`: the lines the request sends.
/// - `accts (id, closed, on_budget)`, `cats (id)`, `given_payees (id)`: the household's rows the
///   request names.
///
/// Every `NOT IN` is guarded by `IS NOT NULL`: `NULL NOT IN (<no rows>)` is true.
pub static PROBLEMS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "problems AS ( \
           SELECT p.n, 'account_id' AS field, {not_an_account} AS message \
           FROM proposed p WHERE p.account_id NOT IN (SELECT id FROM accts) \
           UNION ALL SELECT p.n, 'account_id', {closed} \
           FROM proposed p JOIN accts a ON a.id = p.account_id WHERE a.closed AND p.account_is_new \
           UNION ALL SELECT p.n, 'transfer_account_id', {not_an_account} \
           FROM proposed p WHERE p.target_id IS NOT NULL AND p.target_id NOT IN (SELECT id FROM accts) \
           UNION ALL SELECT p.n, 'transfer_account_id', {closed} \
           FROM proposed p JOIN accts a ON a.id = p.target_id WHERE a.closed AND p.target_is_new \
           UNION ALL SELECT p.n, CASE WHEN p.transfer_sent THEN 'transfer_account_id' ELSE 'account_id' END, \
             {transfer_to_itself} \
           FROM proposed p WHERE p.target_id = p.account_id \
           UNION ALL SELECT p.n, CASE WHEN p.lines_sent THEN 'subtransactions' ELSE 'transfer_account_id' END, \
             {transfer_split} \
           FROM proposed p WHERE p.target_id IS NOT NULL AND p.lines > 0 \
           UNION ALL SELECT p.n, 'category_id', {transfer_category} \
           FROM proposed p JOIN accts a ON a.id = p.account_id JOIN accts b ON b.id = p.target_id \
           WHERE p.category_sent IS NOT NULL AND a.on_budget = b.on_budget \
           UNION ALL SELECT p.n, 'category_id', {split_category} \
           FROM proposed p WHERE p.check_lines AND p.lines > 0 AND p.category_sent IS NOT NULL \
           UNION ALL SELECT p.n, CASE WHEN p.lines_sent THEN 'subtransactions' ELSE 'amount' END, \
             {sum_mismatch} || CASE WHEN p.lines_sent THEN '' ELSE {send_lines} END \
           FROM proposed p WHERE p.check_lines AND p.lines > 0 AND p.line_sum <> p.amount \
           UNION ALL SELECT p.n, 'payee_id', {not_a_payee} \
           FROM proposed p WHERE p.payee_sent IS NOT NULL AND p.payee_sent NOT IN (SELECT id FROM given_payees) \
           UNION ALL SELECT p.n, 'category_id', {not_a_category} \
           FROM proposed p WHERE p.category_sent IS NOT NULL AND p.category_sent NOT IN (SELECT id FROM cats) \
           UNION ALL SELECT l.n, 'subtransactions[' || l.k || '].category_id', {not_a_category} \
           FROM line_items l WHERE l.category_id IS NOT NULL AND l.category_id NOT IN (SELECT id FROM cats) \
           UNION ALL SELECT l.n, 'subtransactions[' || l.k || '].payee_id', {not_a_payee} \
           FROM line_items l WHERE l.payee_id IS NOT NULL AND l.payee_id NOT IN (SELECT id FROM given_payees) \
           UNION ALL SELECT min(p.n), 'payee_name', {too_many_payees} \
           FROM proposed p WHERE p.new_payee IS NOT NULL \
           HAVING (SELECT count(*) FROM payees WHERE household_id = :household_id) \
                  + count(DISTINCT p.new_payee) > {MAX_PAYEES})",
        not_an_account = sql(NOT_AN_ACCOUNT),
        not_a_payee = sql(NOT_A_PAYEE),
        not_a_category = sql(NOT_A_CATEGORY),
        closed = sql(CLOSED),
        transfer_to_itself = sql(TRANSFER_TO_ITSELF),
        transfer_split = sql(TRANSFER_SPLIT),
        transfer_category = sql(TRANSFER_CATEGORY),
        split_category = sql(SPLIT_CATEGORY),
        sum_mismatch = sum_mismatch_sql("p.line_sum", "p.amount"),
        send_lines = sql(SEND_LINES),
        too_many_payees = sql(too_many_payees()),
    )
});

/// The problems of transaction `n` (a SQL expression over the statement's rows), as the JSON text
/// `body::problems_of` reads (`[{n, field, message}]`); NULL for none.
pub fn problems_json(n: &str) -> String {
    problems_json_of("problems", n)
}

/// As [`problems_json`], from `relation` (`(n, field, message)` rows: `problems`, or a statement's
/// union of it with problems of its own).
pub fn problems_json_of(relation: &str, n: &str) -> String {
    format!(
        "(SELECT json_agg(json_build_object('n', p.n, 'field', p.field, 'message', p.message)) \
          FROM {relation} AS p WHERE p.n = {n})::text"
    )
}
