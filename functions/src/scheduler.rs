//! The scheduler: the function no HTTP request starts. An EventBridge rule sends it the scheduled
//! event on a fixed rate (template.yaml, `SchedulerFunction`); each run turns every due occurrence
//! of every household's scheduled transactions into a real transaction, with its transfer's other
//! leg and split lines ([`crate::transactions::legs`], as a create makes them), and moves each
//! schedule on to its next date.
//!
//! - **One Data API call per run**, whatever the number of households: everything happens in
//!   PostgreSQL, in [`RUN`]. A run makes at most [`MAX_PER_RUN`] transactions (well inside the
//!   Data API's 45 s statement limit; `cargo xtask bench` measures it); a backlog beyond that is the
//!   next run's.
//! - **Due** means on or before the run's date in the household's time zone (`households.time_zone`),
//!   the run being the event's `time`: the time it was scheduled for, the same on every retry. A
//!   schedule whose account (or transfer account) is closed waits, and catches up when it is
//!   reopened; one whose time zone PostgreSQL no longer knows waits too, rather than failing the
//!   run for every household.
//! - A category goes where a transaction's would: on the transfer leg in a budget account whose
//!   other side is off budget, on neither leg between two budget accounts.
//! - **Exactly once**: a transaction made from a schedule carries its schedule and date, and
//!   `transactions` has a unique key on the pair. A retried run, a run overlapping another, or one
//!   killed midway (the statement commits whole or not at all) makes each occurrence once: the
//!   later insert finds the key taken and makes nothing. A schedule is moved on only from the state
//!   its run read, so overlapping runs, or an edit meanwhile, never move it twice.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::db::{Db, DbError, param};
use shared::domain::NEW_ID_SQL;
use shared::domain::schedule::occurrence_sql;
use shared::version::bump;

use crate::transactions::legs::LEGS_AND_LINES;

/// The most transactions one run makes.
pub const MAX_PER_RUN: u32 = 2_000;

/// How many of one schedule's occurrences a run looks at: a daily schedule two months behind
/// catches up in one run, further behind over several.
const CATCH_UP: u32 = 62;

/// The event an EventBridge rule sends on its schedule (AWS's "Scheduled Event"); the scheduler
/// reads its time.
#[derive(Debug, Deserialize)]
pub struct ScheduledEvent {
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    /// The time the run was scheduled for.
    pub time: DateTime<Utc>,
}

/// What one run did: the due occurrences it saw, the transactions it made (fewer when another run
/// made some first), and the schedules it moved on.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Ran {
    pub due: i64,
    pub made: i64,
    pub moved_on: i64,
}

/// Why a run failed; the function reports it as an error, so Lambda retries the event and, after
/// the last retry, sends it to the dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("not a scheduled event: detail-type {0:?}")]
    NotScheduled(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the run's answer: {0}")]
    Answer(String),
}

/// The run's statement. Parameter `now`: the event's time.
static RUN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH due AS ( \
           SELECT s.id AS schedule_id, s.household_id, s.account_id, s.amount, s.payee_id, \
             s.category_id, s.memo, s.transfer_account_id AS target_id, s.created_by, s.date_first, \
             s.frequency, s.end_date, s.end_count, s.updated_at AS seen, o.k, o.date, \
             {NEW_ID_SQL} AS id, {NEW_ID_SQL} AS other_id \
           FROM scheduled_transactions s JOIN households h ON h.id = s.household_id \
           JOIN pg_timezone_names z ON z.name = h.time_zone \
           JOIN accounts a ON a.id = s.account_id AND a.closed_at IS NULL \
           LEFT JOIN accounts ta ON ta.id = s.transfer_account_id \
           CROSS JOIN LATERAL (SELECT (:now::timestamptz AT TIME ZONE z.name)::date AS today) AS t \
           CROSS JOIN LATERAL (SELECT k, {occurrence} AS date \
             FROM generate_series(s.next_occurrence, s.next_occurrence + {CATCH_UP} - 1) AS k) AS o \
           WHERE s.deleted_at IS NULL AND s.date_next <= (:now::timestamptz AT TIME ZONE 'UTC')::date + 1 \
             AND ta.closed_at IS NULL \
             AND s.date_next <= t.today AND o.date <= t.today \
             AND (s.end_date IS NULL OR o.date <= s.end_date) AND (s.end_count IS NULL OR o.k < s.end_count) \
           ORDER BY o.date, s.id LIMIT {MAX_PER_RUN}), \
         accts AS ( \
           SELECT a.id, a.on_budget, p.id AS transfer_payee FROM accounts a \
           LEFT JOIN payees p ON p.household_id = a.household_id AND p.transfer_account_id = a.id \
           WHERE a.id IN (SELECT account_id FROM due UNION SELECT target_id FROM due)), \
         main AS ( \
           INSERT INTO transactions (id, household_id, account_id, date, amount, payee_id, category_id, \
             memo, transfer_transaction_id, created_by, scheduled_transaction_id, scheduled_date) \
           SELECT d.id, d.household_id, d.account_id, d.date, d.amount, \
             CASE WHEN d.target_id IS NOT NULL THEN tgt.transfer_payee ELSE d.payee_id END, \
             CASE WHEN d.target_id IS NULL OR (src.on_budget AND NOT tgt.on_budget) THEN d.category_id END, \
             d.memo, \
             CASE WHEN d.target_id IS NOT NULL THEN d.other_id END, d.created_by, d.schedule_id, d.date \
           FROM due d JOIN accts src ON src.id = d.account_id LEFT JOIN accts tgt ON tgt.id = d.target_id \
           ON CONFLICT (scheduled_transaction_id, scheduled_date) DO NOTHING \
           RETURNING id, household_id, account_id, date, amount, payee_id, memo, approved, cleared, \
             transfer_transaction_id, created_by, scheduled_transaction_id), \
         parents AS ( \
           SELECT m.id, m.household_id, m.account_id, m.date, m.amount, m.payee_id AS payee, m.memo, \
             m.approved, m.cleared, d.target_id, m.transfer_transaction_id AS other_id, \
             NULL::uuid AS old_other_id, m.created_by AS recorder, \
             CASE WHEN NOT src.on_budget AND tgt.on_budget THEN d.category_id END AS other_category \
           FROM main m JOIN due d ON d.id = m.id JOIN accts src ON src.id = m.account_id \
           LEFT JOIN accts tgt ON tgt.id = d.target_id), \
         lines_now AS ( \
           SELECT m.id AS parent_id, {NEW_ID_SQL} AS id, l.amount, l.category_id, l.payee_id, l.memo \
           FROM main m JOIN scheduled_lines l ON l.household_id = m.household_id \
             AND l.schedule_id = m.scheduled_transaction_id), \
         {LEGS_AND_LINES}, \
         reached AS ( \
           SELECT schedule_id, seen, end_date, end_count, k, {next} AS next FROM ( \
             SELECT schedule_id, seen, date_first, frequency, end_date, end_count, max(k) + 1 AS k \
             FROM due GROUP BY schedule_id, seen, date_first, frequency, end_date, end_count) AS r), \
         moved_on AS ( \
           UPDATE scheduled_transactions s SET next_occurrence = n.k, {bump}, \
             date_next = CASE WHEN (n.end_count IS NULL OR n.k < n.end_count) \
                               AND (n.end_date IS NULL OR n.next <= n.end_date) THEN n.next END \
           FROM reached n WHERE s.id = n.schedule_id AND s.updated_at = n.seen \
           RETURNING s.id) \
         SELECT (SELECT count(*) FROM due), (SELECT count(*) FROM main), (SELECT count(*) FROM moved_on)",
        occurrence = occurrence_sql("s.date_first", "s.frequency", "k"),
        next = occurrence_sql("r.date_first", "r.frequency", "r.k"),
        LEGS_AND_LINES = LEGS_AND_LINES.as_str(),
        bump = bump("s"),
    )
});

/// One run: makes what `event`'s time finds due.
///
/// # Errors
/// [`RunError`]: an event that is not a scheduled event, or a failed statement (nothing was made).
pub async fn run(db: &Db, event: &ScheduledEvent) -> Result<Ran, RunError> {
    if event.detail_type != "Scheduled Event" {
        return Err(RunError::NotScheduled(event.detail_type.clone()));
    }
    let rows = db
        .execute(&RUN, vec![param("now", &event.time.to_rfc3339())])
        .await?;
    let row = rows
        .iter()
        .next()
        .ok_or_else(|| RunError::Answer("no row".to_owned()))?;
    let count = |at: usize| row.get::<i64>(at).map_err(|e| RunError::Answer(e.to_string()));
    let ran = Ran {
        due: count(0)?,
        made: count(1)?,
        moved_on: count(2)?,
    };
    tracing::info!(due = ran.due, made = ran.made, moved_on = ran.moved_on, time = %event.time, "scheduler run");
    Ok(ran)
}

/// The function's handler: [`run`], its failure logged at level ERROR and returned, so that Lambda
/// counts an error (`FunctionErrorsAlarm`), retries the event, and after the last retry sends it to
/// the dead-letter queue (`SchedulerFailedAlarm`).
///
/// # Errors
/// As [`run`].
pub async fn handle(db: &Db, event: ScheduledEvent) -> Result<Ran, lambda_runtime::Error> {
    run(db, &event).await.map_err(|error| {
        tracing::error!(%error, time = %event.time, "scheduler run failed");
        lambda_runtime::Error::from(error.to_string())
    })
}
