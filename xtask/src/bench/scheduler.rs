//! The scheduler at 1, 100 and 10,000 households, each with one schedule due today: Data API calls
//! per run, the runs it takes to make every occurrence (a run makes at most
//! `functions::scheduler::MAX_PER_RUN`), and how long the longest run takes (its statement must
//! stay well inside the Data API's 45 s). The runs are the function's own `run`, through the real
//! SDK client and data-api-local, on a fresh database seeded directly in PostgreSQL.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use functions::scheduler::{self, ScheduledEvent};
use shared::domain::NEW_ID_SQL;

/// One size measured.
pub struct SchedulerRun {
    pub households: usize,
    /// Data API calls of each run (always the same).
    pub calls_per_run: u64,
    /// Runs that made transactions, until one found nothing more due.
    pub runs: usize,
    /// Transactions made in all.
    pub made: i64,
    pub longest_run: Duration,
}

/// The sizes measured.
pub const HOUSEHOLDS: [usize; 3] = [1, 100, 10_000];

/// `households` households of one member and one account, each with a monthly schedule due today.
async fn seed(direct: &tokio_postgres::Client, households: usize) -> anyhow::Result<()> {
    let n = i64::try_from(households)?;
    let statements = [
        format!(
            "INSERT INTO households (id, name) SELECT {NEW_ID_SQL}, 'Bench ' || i FROM generate_series(1, {n}) AS i"
        ),
        format!(
            "INSERT INTO users (id, household_id, email, password_hash, display_name, role) \
             SELECT {NEW_ID_SQL}, h.id, 'sched-' || h.id || '@bench.example', 'x', 'Member', 'owner' FROM households h"
        ),
        format!(
            "INSERT INTO accounts (id, household_id, name, kind) \
             SELECT {NEW_ID_SQL}, h.id, 'Checking', 'checking' FROM households h"
        ),
        format!(
            "INSERT INTO scheduled_transactions (id, household_id, account_id, date_first, date_next, \
               frequency, amount, created_by) \
             SELECT {NEW_ID_SQL}, a.household_id, a.id, current_date, current_date, 'monthly', -1200000, u.id \
             FROM accounts a JOIN users u ON u.household_id = a.household_id"
        ),
    ];
    for statement in statements {
        direct
            .execute(statement.as_str(), &[])
            .await
            .with_context(|| statement.clone())?;
    }
    Ok(())
}

/// Measures every size in [`HOUSEHOLDS`].
pub async fn measure(emulator: &str) -> anyhow::Result<Vec<SchedulerRun>> {
    let mut measured = Vec::new();
    for households in HOUSEHOLDS {
        let database = harness::TestDatabase::from_template(harness::schema::template().await?).await?;
        seed(&database.connect().await?, households).await?;
        let db = shared::db::Db::new(
            harness::data_api::client(emulator),
            harness::data_api::RESOURCE_ARN,
            harness::data_api::APP_SECRET_ARN,
            &database.name,
        );
        // A run a minute into tomorrow in every household's time zone (all UTC here).
        let tomorrow = Utc::now().date_naive().succ_opt().context("a calendar day")?;
        let time = tomorrow.and_hms_opt(0, 1, 0).context("a time")?.and_utc();
        let event: ScheduledEvent = serde_json::from_value(harness::events::scheduled_event(time)?)?;
        let (mut runs, mut all_runs, mut made, mut longest) = (0, 0u64, 0, Duration::ZERO);
        let calls_before = db.calls();
        loop {
            let started = Instant::now();
            let ran = scheduler::run(&db, &event).await?;
            longest = longest.max(started.elapsed());
            all_runs += 1;
            if ran.made == 0 {
                break;
            }
            runs += 1;
            made += ran.made;
        }
        let calls = db.calls() - calls_before;
        anyhow::ensure!(made == i64::try_from(households)?, "made {made} of {households}");
        measured.push(SchedulerRun {
            households,
            calls_per_run: calls / all_runs,
            runs,
            made,
            longest_run: longest,
        });
        println!("  {households} households: {runs} runs, {made} made, longest {longest:?}");
    }
    Ok(measured)
}
