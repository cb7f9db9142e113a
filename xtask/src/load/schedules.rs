//! Scheduled transactions under load. Each household schedules a daily purchase, a weekly transfer
//! to savings and a split salary twice a month (odd households live in Auckland, the others in
//! UTC). The scheduler runs all along through the fleet, so the faults reach it too (killed
//! midway, lost answers, throttled statements), on a clock that runs fast: each run is a quarter
//! of a day after the one before, every third run is sent twice at once and every fifth is sent
//! again after it. After the load a clean run catches up, and PostgreSQL must hold every due
//! occurrence exactly once: for every schedule, the dates made are exactly its occurrences up to
//! the last run's day in its household's time zone, and `date_next` is the one after.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use shared::domain::schedule::{End, upcoming};
use shared::domain::{Frequency, SqlEnum};

use super::client::{Call, Client};
use super::fleet::{Fleet, Invocation};
use super::household::{Household, expect};
use super::ledger::Findings;

pub const RULE: &str = "every due occurrence is made exactly once, no date skipped or repeated";

/// Simulated time between two runs.
const STEP: chrono::Duration = chrono::Duration::hours(6);

/// The scheduler's clock: run `i` is due at `start + i × STEP`.
pub struct Clock {
    pub start: DateTime<Utc>,
}

impl Clock {
    pub fn at(&self, run: i32) -> DateTime<Utc> {
        self.start + STEP * run
    }
}

/// The three schedules of `household`, made by its owner through the API.
pub async fn set_up(client: &Client, run: &str, index: usize, household: &Household) -> anyhow::Result<()> {
    let token = household.members[0].access();
    if index % 2 == 1 {
        let zone = Call::new("PATCH", "/household")
            .token(&token)
            .body(json!({"time_zone": "Pacific/Auckland"}));
        expect(client.send(&zone).await?, 200, "set the time zone")?;
    }
    // Today or later in either zone.
    let today = Utc::now().date_naive().succ_opt().context("a calendar day")?;
    let (checking, savings) = (&household.accounts[0].id, &household.accounts[1].id);
    let (groceries, fun) = (&household.categories[0], &household.categories[2]);
    let plans = [
        json!({"account_id": checking, "date_first": today, "frequency": "daily", "amount": -4_500,
               "payee_name": "Bakery", "category_id": groceries}),
        json!({"account_id": checking, "date_first": today, "frequency": "weekly", "amount": -50_000,
               "transfer_account_id": savings, "end_count": 12}),
        json!({"account_id": checking, "date_first": today, "frequency": "twiceAMonth",
               "amount": 1_500_000, "payee_name": "Employer",
               "subtransactions": [{"amount": 1_200_000}, {"amount": 300_000, "category_id": fun}]}),
    ];
    for (n, plan) in plans.into_iter().enumerate() {
        let call = Call::new("POST", "/scheduled-transactions")
            .token(&token)
            .key(format!("{run}-schedule-{index}-{n}"))
            .body(plan);
        expect(client.send(&call).await?, 201, "schedule a transaction")?;
    }
    Ok(())
}

/// The event the EventBridge rule sends, due at `time`.
fn event(time: DateTime<Utc>) -> anyhow::Result<String> {
    Ok(harness::events::scheduled_event(time)?.to_string())
}

/// Whether a run answered what it made (a killed or failed run did not).
fn answered(invocation: &Invocation) -> bool {
    matches!(invocation, Invocation::Answered { response, .. } if response.get("made").is_some())
}

/// Runs the scheduler until `stop`; answers the last run's number and how many runs were sent.
pub async fn run_during(fleet: &Fleet, clock: &Clock, stop: &AtomicBool) -> anyhow::Result<(i32, u64)> {
    let (mut run, mut sent) = (0, 0);
    while !stop.load(Ordering::Relaxed) {
        run += 1;
        let due = event(clock.at(run))?;
        if run % 3 == 0 {
            let (a, b) = tokio::join!(fleet.invoke("scheduler", &due), fleet.invoke("scheduler", &due));
            a?;
            b?;
            sent += 2;
        } else {
            fleet.invoke("scheduler", &due).await?;
            sent += 1;
        }
        if run % 5 == 0 {
            fleet.invoke("scheduler", &due).await?;
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    Ok((run, sent))
}

/// After the load (faults stopped): runs at the last run's time until nothing more is made, then
/// compares every schedule with its occurrences.
pub async fn check(
    fleet: &Fleet,
    direct: &tokio_postgres::Client,
    last: DateTime<Utc>,
    findings: &mut Findings,
) -> anyhow::Result<()> {
    for attempt in 0.. {
        anyhow::ensure!(attempt < 50, "the scheduler did not catch up in 50 clean runs");
        match fleet.invoke("scheduler", &event(last)?).await? {
            Invocation::Answered { response, .. } if response["made"] == json!(0) => break,
            invocation if answered(&invocation) => {}
            Invocation::Answered { response, .. } => {
                anyhow::bail!("a clean scheduler run failed: {response}")
            }
            Invocation::Killed { .. } => anyhow::bail!("a clean scheduler run was killed"),
        }
    }
    let rows = direct
        .query(
            "SELECT s.id::text, s.date_first::text, s.frequency, s.end_date::text, s.end_count, \
               s.date_next::text, ($1::text::timestamptz AT TIME ZONE h.time_zone)::date::text, \
               ARRAY(SELECT t.scheduled_date::text FROM transactions t \
                     WHERE t.scheduled_transaction_id = s.id ORDER BY t.scheduled_date) \
             FROM scheduled_transactions s JOIN households h ON h.id = s.household_id \
             WHERE s.deleted_at IS NULL",
            &[&last.to_rfc3339()],
        )
        .await?;
    for row in rows {
        let id: String = row.get(0);
        let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").context("a date");
        let first = date(row.get(1))?;
        let frequency = Frequency::parse(row.get::<_, &str>(2)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let end = match (row.get::<_, Option<&str>>(3), row.get::<_, Option<i32>>(4)) {
            (Some(end), _) => End::OnOrBefore(date(end)?),
            (None, Some(count)) => End::After(u32::try_from(count)?),
            (None, None) => End::Never,
        };
        let date_next = row.get::<_, Option<&str>>(5).map(date).transpose()?;
        let today = date(row.get(6))?;
        let made = row
            .get::<_, Vec<String>>(7)
            .iter()
            .map(|d| date(d))
            .collect::<anyhow::Result<Vec<_>>>()?;
        // The test's own stepping, through the rule's one home.
        let all = upcoming(first, frequency, end, 0, 10_000);
        let due: Vec<NaiveDate> = all.iter().copied().take_while(|d| *d <= today).collect();
        let next = all.get(due.len()).copied();
        findings.check(RULE, made == due && date_next == next, || {
            format!(
                "schedule {id} ({frequency} from {first}, today {today}): made {made:?}, due {due:?}; \
                 date_next {date_next:?}, expected {next:?}"
            )
        });
    }
    Ok(())
}
