//! What follows a transaction wherever it is written (create, bulk create, update): a transfer's
//! other leg and a split's lines. [`LEGS_AND_LINES`] is the one statement part that writes them, so
//! the rules of how they follow their transaction live here once:
//! - The other leg is in the transfer's other account, with the amount negated, the same date and
//!   this account's transfer payee; a new one starts uncleared. A transfer that ends, or moves to
//!   another account, leaves a tombstone of the old leg.
//! - A split's lines are on their parent's account and date and share its cleared and approved
//!   state; a line without its own payee takes the parent's. Lines the write no longer has become
//!   tombstones.
//!
//! Rows that already follow are left alone, so their versions (and delta sync) do not move. The
//! upserts conflict on `(household_id, id)`: an id taken in another household fails the statement
//! rather than being skipped.

use std::sync::LazyLock;

use shared::version::bump;

/// The CTEs that write the other legs and lines of the transactions a statement wrote. They read
/// CTEs the statement defines:
/// - `parents (id, household_id, account_id, date, amount, payee, memo, approved, cleared,
///   target_id, other_id, other_category, old_other_id, recorder)`: each transaction written, as
///   stored now (`payee` its payee; `recorder`, the member who records its new rows),
///   with its transfer's other account and other leg (`target_id`, `other_id`: NULL for none;
///   `other_id` a new id for a new leg), the other leg's category, and the leg it had before
///   (`old_other_id`, NULL for a new transaction).
/// - `lines_now (parent_id, id, amount, category_id, payee_id, memo)`: the lines each transaction
///   has after the write, new ones with new ids.
/// - `accts (id, transfer_payee)`: the accounts of `parents`.
pub static LEGS_AND_LINES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "other_legs AS ( \
           INSERT INTO transactions AS x (id, household_id, account_id, date, amount, payee_id, \
             category_id, memo, cleared, approved, transfer_transaction_id, created_by) \
           SELECT p.other_id, p.household_id, p.target_id, p.date, -p.amount, a.transfer_payee, \
             p.other_category, p.memo, 'uncleared', p.approved, p.id, p.recorder \
           FROM parents p JOIN accts a ON a.id = p.account_id WHERE p.other_id IS NOT NULL \
           ON CONFLICT (household_id, id) DO UPDATE SET date = excluded.date, amount = excluded.amount, \
             payee_id = excluded.payee_id, category_id = excluded.category_id, {bump} \
           WHERE (x.date, x.amount, x.payee_id, x.category_id) IS DISTINCT FROM (excluded.date, excluded.amount, excluded.payee_id, excluded.category_id) \
           RETURNING x.id), \
         legs_dropped AS ( \
           UPDATE transactions x SET deleted_at = now(), {bump} FROM parents p \
           WHERE x.household_id = p.household_id AND x.id = p.old_other_id AND x.deleted_at IS NULL \
             AND p.other_id IS DISTINCT FROM p.old_other_id \
           RETURNING x.id), \
         lines_written AS ( \
           INSERT INTO transactions AS x (id, household_id, account_id, date, amount, payee_id, \
             category_id, memo, cleared, approved, parent_id, created_by) \
           SELECT l.id, p.household_id, p.account_id, p.date, l.amount, COALESCE(l.payee_id, p.payee), \
             l.category_id, l.memo, p.cleared, p.approved, p.id, p.recorder \
           FROM lines_now l JOIN parents p ON p.id = l.parent_id \
           ON CONFLICT (household_id, id) DO UPDATE SET account_id = excluded.account_id, date = excluded.date, \
             cleared = excluded.cleared, approved = excluded.approved, {bump} \
           WHERE (x.account_id, x.date, x.cleared, x.approved) IS DISTINCT FROM (excluded.account_id, excluded.date, excluded.cleared, excluded.approved) \
           RETURNING x.id), \
         lines_dropped AS ( \
           UPDATE transactions x SET deleted_at = now(), {bump} FROM parents p \
           WHERE x.household_id = p.household_id AND x.parent_id = p.id AND x.deleted_at IS NULL \
             AND x.id NOT IN (SELECT id FROM lines_now) \
           RETURNING x.id)",
        bump = bump("x"),
    )
});
