//! Monthly envelope budgeting, as YNAB does it: every inflow without a category becomes money to
//! assign, assigning moves it into categories, and spending draws on them.
//!
//! For a category `c` and month `m`:
//! - `activity(c, m)`: the month's live transactions and split lines in `c`, on-budget accounts only;
//! - `available(c, m) = max(available(c, m − 1), 0) + assigned(c, m) + activity(c, m)`: what is
//!   left rolls over, an overspent balance does not (it comes out of next month's money to assign);
//! - `ready_to_assign(m)` = inflows without a category up to the end of `m` (not transfers from
//!   another on-budget account) − everything assigned up to the end of `m` − the overspending of
//!   every month before `m`.
//!
//! Every figure is an exact sum (`numeric` in SQL, [`Total`] here): a household's totals never
//! overflow, whatever the amounts and their number.
//!
//! All in one statement, whatever the history, without recursion: with `S(k)` the running sum of
//! `assigned + activity` of a category up to month `k`, the recurrence above is
//! `available(c, m) = S(m) − min(0, S(k) for every k < m)` (the balance resets to 0 exactly where
//! the running sum reaches a new low), which window functions compute in one pass.
//!
//! Split lines are rows with `parent_id`, on their parent's account and date; a split parent has
//! no category of its own, so only its live lines count. Deleting a transaction (or replacing a
//! split's lines) marks the lines deleted in the same statement, so a line's own `deleted_at` is
//! enough here (joining every line to its
//! parent made PostgreSQL read the whole transactions table, every household's rows).

pub mod assign;
pub mod get;
pub mod list;

use serde::Serialize;
use shared::db::Row;
use shared::domain::{CategoryGroupId, CategoryId, Month, ParseError, Total};
use shared::http::ApiError;

/// Months the API answers for: those whose days transaction dates may take.
pub fn month(text: &str) -> Result<Month, ParseError> {
    Month::parse(text).and_then(|month| {
        if shared::domain::in_date_range(month.first_day()) {
            Ok(month)
        } else {
            Err(ParseError::InvalidMonth)
        }
    })
}

/// The common table expressions (after `{ME}`) that give `balances (category_id, month, activity,
/// assigned, available)` for every category and month with data up to `:until` (a month's first
/// day), and `income (month, amount)`. `allocations` selects `(category_id, month, assigned)`:
/// the stored rows, or for a write, the rows as they will be once it is done (a statement does not
/// see its own writes).
pub fn figures(allocations: &str) -> String {
    format!(
        "lines AS ( \
           SELECT t.id, t.category_id, t.amount, date_trunc('month', t.date)::date AS month, \
                  t.transfer_transaction_id \
           FROM transactions t \
           JOIN accounts a ON a.id = t.account_id AND a.on_budget \
           WHERE t.household_id = :household_id AND EXISTS (SELECT 1 FROM me) \
             AND t.deleted_at IS NULL \
             AND t.date < (:until::date + interval '1 month')::date), \
         activity AS ( \
           SELECT category_id, month, sum(amount) AS activity FROM lines \
           WHERE category_id IS NOT NULL GROUP BY category_id, month), \
         allocations AS ({allocations}), \
         cells AS ( \
           SELECT category_id, month, sum(activity) AS activity, sum(assigned) AS assigned \
           FROM (SELECT category_id, month, activity, 0 AS assigned FROM activity \
                 UNION ALL SELECT category_id, month, 0, assigned FROM allocations) AS both_kinds \
           GROUP BY category_id, month), \
         running AS ( \
           SELECT category_id, month, activity, assigned, \
                  sum(activity + assigned) OVER (PARTITION BY category_id ORDER BY month) AS total \
           FROM cells), \
         balances AS ( \
           SELECT category_id, month, activity, assigned, \
                  total - LEAST(0, COALESCE(min(total) OVER (PARTITION BY category_id ORDER BY month \
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)) AS available \
           FROM running), \
         income AS ( \
           SELECT l.month, l.amount FROM lines l \
           WHERE l.category_id IS NULL AND l.amount > 0 \
             AND NOT EXISTS (SELECT 1 FROM transactions s \
                             WHERE s.household_id = :household_id AND s.parent_id = l.id \
                               AND s.deleted_at IS NULL) \
             AND NOT EXISTS (SELECT 1 FROM lines other WHERE other.id = l.transfer_transaction_id))"
    )
}

/// The stored assignments up to `:until`.
pub const STORED_ALLOCATIONS: &str = "SELECT category_id, month, assigned FROM budget_allocations \
     WHERE household_id = :household_id AND month <= :until::date AND EXISTS (SELECT 1 FROM me)";

/// After [`figures`]: the month `:until`'s money to assign, income and last month's overspending.
pub const MONTH_SUMMARY: &str = "summary AS ( \
       SELECT ((SELECT COALESCE(sum(amount), 0) FROM income) \
               - (SELECT COALESCE(sum(assigned), 0) FROM balances) \
               - (SELECT COALESCE(sum(GREATEST(-available, 0)), 0) FROM balances \
                  WHERE month < :until::date)) AS ready_to_assign, \
              (SELECT COALESCE(sum(amount), 0) FROM income WHERE month = :until::date) AS income, \
              (SELECT COALESCE(sum(GREATEST(-available, 0)), 0) FROM balances \
                 WHERE month = (:until::date - interval '1 month')::date) AS overspent_last_month), \
     carried AS ( \
       SELECT DISTINCT ON (category_id) category_id, GREATEST(available, 0) AS available \
       FROM balances WHERE month < :until::date ORDER BY category_id, month DESC)";

/// After [`MONTH_SUMMARY`]: the columns of [`CategoryMonth::from_row`] for category `c`.
pub const CATEGORY_COLUMNS: &str = "c.id, c.category_group_id, c.name, COALESCE(b.assigned, 0), \
     COALESCE(b.activity, 0), COALESCE(b.available, carried.available, 0)";

/// After [`MONTH_SUMMARY`]: joins a category `c` to its month.
pub const CATEGORY_JOINS: &str = "LEFT JOIN balances b ON b.category_id = c.id AND b.month = :until::date \
     LEFT JOIN carried ON carried.category_id = c.id";

/// One category in one month.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryMonth {
    pub category_id: CategoryId,
    pub category_group_id: CategoryGroupId,
    pub name: String,
    pub assigned: Total,
    pub activity: Total,
    pub available: Total,
}

impl CategoryMonth {
    /// From [`CATEGORY_COLUMNS`] starting at column `at`.
    pub fn from_row(row: &Row<'_>, at: usize) -> Result<Self, ApiError> {
        Ok(Self {
            category_id: row.get(at)?,
            category_group_id: row.get(at + 1)?,
            name: row.get(at + 2)?,
            assigned: row.get(at + 3)?,
            activity: row.get(at + 4)?,
            available: row.get(at + 5)?,
        })
    }
}
