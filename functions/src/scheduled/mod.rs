//! Scheduled transactions: a transaction that repeats (`shared::domain::schedule` says when). The
//! scheduler (`crate::scheduler`) makes a real transaction of each occurrence when its day comes
//! in the household's time zone. A schedule takes the fields of a transaction (transfers and
//! splits too, under the same rules: `transactions::rules`) and when it repeats: `date_first`,
//! `frequency`, and an optional end (`end_date`, or `end_count` occurrences). Deleting is soft, so
//! sync clients see `deleted: true`, and transactions made from it keep pointing at it.

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod update;

use chrono::NaiveDate;
use serde::Serialize;
use shared::db::Row;
use shared::domain::schedule::{End, upcoming};
use shared::domain::{
    AccountId, CategoryId, Frequency, Milliunits, PayeeId, ScheduledLineId, ScheduledTransactionId,
};
use shared::http::ApiError;
use shared::version::Version;

/// How many of its next dates a schedule's answer shows.
pub const UPCOMING: usize = 5;

/// The most schedules a household keeps (not counting deleted ones): bills and income, not a log.
pub const MAX_SCHEDULES: i64 = 200;

/// A schedule's lines `l` as the JSON array [`ScheduledSubtransaction`] reads, in the order sent.
macro_rules! schedule_lines_json {
    () => {
        "COALESCE(json_agg(json_build_object('id', l.id, 'amount', l.amount, \
         'category_id', l.category_id, 'payee_id', l.payee_id, 'memo', l.memo) ORDER BY l.position), '[]')"
    };
}
pub(crate) use schedule_lines_json;

/// The columns of [`ScheduledTransaction::from_row`] for schedule `s`, with `p` its payee and `tp`
/// its transfer account's payee (both LEFT JOIN payees: see [`JOINS`]).
pub const COLUMNS: &str = concat!(
    "s.id, s.account_id, s.date_first, s.date_next, s.frequency, s.end_date, s.end_count, s.amount, \
     COALESCE(p.id, tp.id), COALESCE(p.name, tp.name), s.category_id, s.memo, s.transfer_account_id, \
     s.deleted_at IS NOT NULL, ",
    shared::version_of!("s"),
    ", (SELECT ",
    schedule_lines_json!(),
    "::text FROM scheduled_lines l WHERE l.household_id = s.household_id AND l.schedule_id = s.id), \
     s.next_occurrence"
);

/// Joins a schedule `s` to what [`COLUMNS`] reads besides it.
pub const JOINS: &str = "LEFT JOIN payees p ON p.household_id = s.household_id AND p.id = s.payee_id \
     LEFT JOIN payees tp ON tp.household_id = s.household_id AND tp.transfer_account_id = s.transfer_account_id";

/// One line of a split schedule.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ScheduledSubtransaction {
    pub id: ScheduledLineId,
    pub amount: Milliunits,
    pub category_id: Option<CategoryId>,
    pub payee_id: Option<PayeeId>,
    pub memo: Option<String>,
}

/// A scheduled transaction as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScheduledTransaction {
    pub id: ScheduledTransactionId,
    pub account_id: AccountId,
    pub date_first: NaiveDate,
    /// The date of the next occurrence; null once the schedule has ended.
    pub date_next: Option<NaiveDate>,
    pub frequency: Frequency,
    pub end_date: Option<NaiveDate>,
    pub end_count: Option<i32>,
    pub amount: Milliunits,
    /// For a transfer, the other account's transfer payee.
    pub payee_id: Option<PayeeId>,
    pub payee_name: Option<String>,
    pub category_id: Option<CategoryId>,
    pub memo: Option<String>,
    pub transfer_account_id: Option<AccountId>,
    pub deleted: bool,
    pub subtransactions: Vec<ScheduledSubtransaction>,
    /// The next dates it falls due on, up to five, the first of them `date_next`.
    pub upcoming: Vec<NaiveDate>,
    #[serde(skip)]
    pub version: Version,
}

impl ScheduledTransaction {
    /// Reads [`COLUMNS`] starting at column `at`.
    ///
    /// # Errors
    /// When the row does not have that shape.
    pub fn from_row(row: &Row<'_>, at: usize) -> Result<Self, ApiError> {
        let lines: String = row.get(at + 15)?;
        let subtransactions = serde_json::from_str(&lines)
            .map_err(|e| ApiError::Internal(format!("schedule lines did not decode: {e}")))?;
        let date_first: NaiveDate = row.get(at + 2)?;
        let date_next: Option<NaiveDate> = row.get(at + 3)?;
        let frequency: Frequency = row.get(at + 4)?;
        let end_date: Option<NaiveDate> = row.get(at + 5)?;
        let end_count: Option<i32> = row.get(at + 6)?;
        let deleted: bool = row.get(at + 13)?;
        let next: i32 = row.get(at + 16)?;
        let upcoming = match (deleted, date_next, u32::try_from(next)) {
            (false, Some(_), Ok(next)) => {
                upcoming(date_first, frequency, end_of(end_date, end_count), next, UPCOMING)
            }
            _ => Vec::new(),
        };
        Ok(Self {
            id: row.get(at)?,
            account_id: row.get(at + 1)?,
            date_first,
            date_next,
            frequency,
            end_date,
            end_count,
            amount: row.get(at + 7)?,
            payee_id: row.get(at + 8)?,
            payee_name: row.get(at + 9)?,
            category_id: row.get(at + 10)?,
            memo: row.get(at + 11)?,
            transfer_account_id: row.get(at + 12)?,
            deleted,
            subtransactions,
            upcoming,
            version: row.get(at + 14)?,
        })
    }
}

/// The `schedule_problems` CTE of every statement that writes a schedule: the rules of its dates
/// that need the database, one `(n, field, message)` row each, reading the statement's `proposed`
/// (`n`, `date_first`, `end_date`; `restart`, whether the first date is new and so must be today
/// or later in the household's time zone; `check_end`, whether the end date is this statement's to
/// check, as it is when only one of the two dates was sent; `is_new`, whether the write adds a
/// schedule, so that the household's count is checked).
pub static SCHEDULE_PROBLEMS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use crate::transactions::rules::sql;
    use shared::domain::schedule::{DATE_FIRST_PAST, END_BEFORE_FIRST};
    format!(
        "schedule_problems AS ( \
           SELECT p.n, 'date_first' AS field, {past} || ' (' || h.today || ')' AS message \
           FROM proposed p, (SELECT (now() AT TIME ZONE time_zone)::date AS today FROM households \
                             WHERE id = :household_id) AS h \
           WHERE p.restart AND p.date_first < h.today \
           UNION ALL SELECT p.n, 'end_date', {end_before} FROM proposed p \
           WHERE p.check_end AND p.end_date < p.date_first \
           UNION ALL SELECT p.n, 'body', {too_many} FROM proposed p \
           WHERE p.is_new AND (SELECT count(*) FROM scheduled_transactions \
                               WHERE household_id = :household_id AND deleted_at IS NULL) >= {MAX_SCHEDULES})",
        past = sql(DATE_FIRST_PAST),
        end_before = sql(END_BEFORE_FIRST),
        too_many = sql(format!(
            "the household already has {MAX_SCHEDULES} scheduled transactions, the most it can have"
        )),
    )
});

/// Every problem of a schedule's write (the transaction rules' and its dates'), as the JSON text
/// `transactions::body::problems_of` reads; NULL for none.
pub static PROBLEMS_JSON: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::transactions::rules::problems_json_of(
        "(SELECT * FROM problems UNION ALL SELECT * FROM schedule_problems)",
        "0",
    )
});

/// Whether the write may go ahead: no problem of either kind.
pub const NO_PROBLEMS: &str =
    "NOT EXISTS (SELECT 1 FROM problems) AND NOT EXISTS (SELECT 1 FROM schedule_problems)";

/// The CTEs that clear `column` (`category_id` or `payee_id`) wherever a household's schedules and
/// their lines name one of the rows of the CTE `allowed (id)`, which a delete of those rows removes
/// in the same statement. A schedule whose line changes is stamped too: its lines are part of it.
pub fn cleared_from_schedules(column: &str) -> String {
    format!(
        "schedules_cleared AS ( \
           UPDATE scheduled_transactions s SET {bump}, {column} = CASE \
             WHEN s.{column} IN (SELECT id FROM allowed) THEN NULL ELSE s.{column} END \
           WHERE s.household_id = :household_id AND (s.{column} IN (SELECT id FROM allowed) \
             OR s.id IN (SELECT schedule_id FROM scheduled_lines WHERE household_id = :household_id \
                         AND {column} IN (SELECT id FROM allowed))) \
           RETURNING s.id), \
         schedule_lines_cleared AS ( \
           UPDATE scheduled_lines l SET {column} = NULL \
           WHERE l.household_id = :household_id AND l.{column} IN (SELECT id FROM allowed) \
           RETURNING l.id)",
        bump = shared::version::BUMP,
    )
}

/// The end a schedule's columns describe.
pub fn end_of(end_date: Option<NaiveDate>, end_count: Option<i32>) -> End {
    match (end_date, end_count.and_then(|n| u32::try_from(n).ok())) {
        (Some(date), _) => End::OnOrBefore(date),
        (None, Some(count)) => End::After(count),
        (None, None) => End::Never,
    }
}
