//! The newest migration on a database that already holds data, as a deploy runs it: a database at
//! the version before, one household with 10,000 transactions (and its accounts, payees and
//! categories), then `migrate::up` through the release data-api-local with the master login, as
//! the migrate function does. Reports its statements, Data API calls and time.

use std::time::{Duration, Instant};

use shared::db::Db;
use shared::migrate;

pub struct Migration {
    pub name: String,
    pub statements: usize,
    pub calls: u64,
    pub elapsed: Duration,
    pub transactions: i64,
}

const TRANSACTIONS: i64 = 10_000;

/// Seeds a household of `TRANSACTIONS` transactions directly (ids as the service makes them).
async fn seed(direct: &tokio_postgres::Client) -> anyhow::Result<()> {
    let household = shared::domain::HouseholdId::new().to_string();
    let user = shared::domain::UserId::new().to_string();
    let account = shared::domain::AccountId::new().to_string();
    let payee = shared::domain::PayeeId::new().to_string();
    let group = shared::domain::CategoryGroupId::new().to_string();
    let category = shared::domain::CategoryId::new().to_string();
    let ids: Vec<String> = (0..TRANSACTIONS)
        .map(|_| shared::domain::TransactionId::new().to_string())
        .collect();
    let ids = serde_json::to_string(&ids)?;
    direct
        .batch_execute(&format!(
            "INSERT INTO households (id, name) VALUES ('{household}', 'Migration bench'); \
             INSERT INTO users (id, household_id, email, password_hash, display_name, role) \
               VALUES ('{user}', '{household}', 'migration@bench.example', 'x', 'Bench', 'owner'); \
             INSERT INTO accounts (id, household_id, name, kind) VALUES ('{account}', '{household}', 'Checking', 'checking'); \
             INSERT INTO payees (id, household_id, name) VALUES ('{payee}', '{household}', 'Shop'); \
             INSERT INTO category_groups (id, household_id, name) VALUES ('{group}', '{household}', 'Bills'); \
             INSERT INTO categories (id, household_id, category_group_id, name) \
               VALUES ('{category}', '{household}', '{group}', 'Rent');"
        ))
        .await?;
    direct
        .execute(
            "INSERT INTO transactions (id, household_id, account_id, date, amount, payee_id, category_id, created_by) \
             SELECT id::uuid, $1::text::uuid, $2::text::uuid, date '2016-11-01' + (n % 3650)::int, -n, \
                    $3::text::uuid, $4::text::uuid, $5::text::uuid \
             FROM json_array_elements_text($6::text::json) WITH ORDINALITY AS t(id, n)",
            &[&household, &account, &payee, &category, &user, &ids],
        )
        .await?;
    Ok(())
}

/// Takes the database back to the version before the newest migration, seeds it, and applies
/// the newest migration through the Data API.
pub async fn newest(db: &Db, direct: &tokio_postgres::Client) -> anyhow::Result<Migration> {
    let all = harness::schema::migrations()?;
    let newest = all.last().ok_or_else(|| anyhow::anyhow!("no migrations"))?;
    let before = all.iter().rev().nth(1).map_or(0, |m| m.version);
    migrate::down(db, &all, before, None).await?;
    seed(direct).await?;
    let counting = db.counting();
    let started = Instant::now();
    let report = migrate::up(&counting, &all, None).await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        report.current_version == newest.version,
        "the newest migration did not apply"
    );
    Ok(Migration {
        name: format!("{:04}_{}", newest.version, newest.name),
        statements: newest.up_statements().len(),
        calls: counting.calls(),
        elapsed,
        transactions: TRANSACTIONS,
    })
}
