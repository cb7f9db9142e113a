//! The migration engine: brings a database to the committed migrations, through the Data API.
//!
//! A run is one Data API transaction, so it either applies every pending migration or nothing
//! (PostgreSQL DDL is transactional):
//!
//! 1. `BeginTransaction`;
//! 2. `pg_advisory_xact_lock` — concurrent runs (two deploys) queue here; the lock ends with the
//!    transaction, so no early return can leak it;
//! 3. ensure the ledger `schema_migrations` exists and read it;
//! 4. refuse if an applied migration's file changed (checksum) or disappeared;
//! 5. run each pending migration statement by statement (the Data API takes one statement per
//!    call), checking the deadline before each;
//! 6. record every applied migration in the ledger, in the same transaction;
//! 7. `CommitTransaction`; on any error, `RollbackTransaction`.
//!
//! A run with nothing to do first tries a single read of the ledger outside a transaction and
//! stops there: one round trip for the common deploy that changes no schema.
//!
//! Migration files are `NNNN_name.up.sql` and `NNNN_name.down.sql`; any other file in the
//! directory is an error, not silently skipped.

pub mod app_role;
mod files;

use std::time::Instant;

pub use app_role::{AppRole, AppRoleError};
pub use files::{Migration, MigrationFileError, checksum, embedded, from_dir, from_files};

use crate::db::{Db, DbError, Transaction, param};

/// Serialises migration runs across processes (any constant; "budget" in ASCII).
const ADVISORY_LOCK_KEY: i64 = 0x6275_6467_6574;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version bigint PRIMARY KEY, \
    name text NOT NULL, \
    checksum text NOT NULL, \
    applied_at timestamp with time zone NOT NULL DEFAULT now(), \
    execution_ms bigint NOT NULL)";

const READ_LEDGER: &str = "SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), execution_ms \
     FROM schema_migrations ORDER BY version";

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "migration {version} was applied but its file has changed (applied checksum {applied}, file checksum {file})"
    )]
    ChecksumMismatch {
        version: i64,
        applied: String,
        file: String,
    },
    #[error("migration {version} ({name}) is recorded as applied but no file for it exists")]
    MissingFile { version: i64, name: String },
    #[error("migration {version} ({name}) failed at statement {statement} ({sql_start}…): {source}")]
    Statement {
        version: i64,
        name: String,
        statement: usize,
        sql_start: String,
        #[source]
        source: DbError,
    },
    #[error("stopped before migration {version}: the deadline is too close to start another statement")]
    DeadlineApproaching { version: i64 },
    #[error("no migration has version {0}")]
    UnknownVersion(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub applied_at: String,
    pub execution_ms: i64,
}

/// A migration applied or reverted by this run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub version: i64,
    pub name: String,
    pub statements: usize,
    pub execution_ms: i64,
}

/// What [`up`] or [`down`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub steps: Vec<Step>,
    /// The highest applied version after the run (0 for none).
    pub current_version: i64,
}

/// What [`status`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    pub applied: Vec<LedgerEntry>,
    pub pending: Vec<i64>,
    /// Checksum mismatches and ledger entries without a file, as messages.
    pub problems: Vec<String>,
}

/// Applies every pending migration, in one transaction. No statement starts after `deadline`
/// (the caller leaves itself time to roll back and report).
///
/// # Errors
/// [`MigrateError`]; the database is left as it was.
pub async fn up(
    db: &Db,
    migrations: &[Migration],
    deadline: Option<Instant>,
) -> Result<Report, MigrateError> {
    // Fast path: no lock, no transaction, when the ledger already matches the files.
    if let Ok(ledger) = read_ledger(db, None).await
        && validate(&ledger, migrations).is_ok()
        && pending(&ledger, migrations).is_empty()
    {
        return Ok(Report {
            steps: Vec::new(),
            current_version: current_version(&ledger),
        });
    }
    in_transaction(db, async |tx| {
        let ledger = lock_and_read(db, tx).await?;
        validate(&ledger, migrations)?;
        let mut steps = Vec::new();
        for migration in pending(&ledger, migrations) {
            steps.push(run_migration(db, tx, migration, &migration.up_statements(), deadline).await?);
        }
        record(db, tx, migrations, &steps).await?;
        let current = steps.last().map_or(current_version(&ledger), |s| s.version);
        Ok(Report {
            steps,
            current_version: current,
        })
    })
    .await
}

/// Reverts applied migrations above `to` (0 reverts all), newest first, in one transaction.
///
/// # Errors
/// [`MigrateError::UnknownVersion`] when `to` is neither 0 nor a migration's version; otherwise
/// as [`up`].
pub async fn down(
    db: &Db,
    migrations: &[Migration],
    to: i64,
    deadline: Option<Instant>,
) -> Result<Report, MigrateError> {
    if to != 0 && !migrations.iter().any(|m| m.version == to) {
        return Err(MigrateError::UnknownVersion(to));
    }
    in_transaction(db, async |tx| {
        let ledger = lock_and_read(db, tx).await?;
        validate(&ledger, migrations)?;
        let mut steps = Vec::new();
        for entry in ledger.iter().rev().filter(|e| e.version > to) {
            let migration = migrations
                .iter()
                .find(|m| m.version == entry.version)
                .ok_or_else(|| MigrateError::MissingFile {
                    version: entry.version,
                    name: entry.name.clone(),
                })?;
            steps.push(run_migration(db, tx, migration, &migration.down_statements(), deadline).await?);
        }
        if !steps.is_empty() {
            db.execute_in(
                tx,
                "DELETE FROM schema_migrations WHERE version > :to",
                vec![param("to", &to)],
            )
            .await?;
        }
        let current = ledger
            .iter()
            .map(|e| e.version)
            .filter(|v| *v <= to)
            .max()
            .unwrap_or(0);
        Ok(Report {
            steps,
            current_version: current,
        })
    })
    .await
}

/// Applied and pending versions, and any checksum problems; reads only.
///
/// # Errors
/// [`MigrateError::Db`] when the ledger cannot be read (a missing ledger means nothing applied).
pub async fn status(db: &Db, migrations: &[Migration]) -> Result<Status, MigrateError> {
    let ledger = match read_ledger(db, None).await {
        Ok(ledger) => ledger,
        Err(DbError::Database { sql_state, .. }) if sql_state == "42P01" => Vec::new(),
        Err(error) => return Err(error.into()),
    };
    Ok(Status {
        pending: pending(&ledger, migrations).iter().map(|m| m.version).collect(),
        problems: problems(&ledger, migrations)
            .iter()
            .map(ToString::to_string)
            .collect(),
        applied: ledger,
    })
}

async fn in_transaction<T>(
    db: &Db,
    work: impl AsyncFnOnce(&Transaction) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    let tx = db.begin().await?;
    match work(&tx).await {
        Ok(value) => {
            db.commit(tx).await?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = db.rollback(tx).await {
                // The Data API rolls an abandoned transaction back after 3 idle minutes anyway.
                tracing::warn!(error = %rollback, "rollback after a failed migration run failed");
            }
            Err(error)
        }
    }
}

/// Takes the lock, creates the ledger if this is the first run, and reads it. Three separate
/// statements on purpose: a statement's snapshot is taken before it waits for the lock, so only a
/// statement started after the lock is granted sees what the previous holder committed.
async fn lock_and_read(db: &Db, tx: &Transaction) -> Result<Vec<LedgerEntry>, MigrateError> {
    db.execute_in(
        tx,
        "SELECT pg_advisory_xact_lock(:key)",
        vec![param("key", &ADVISORY_LOCK_KEY)],
    )
    .await?;
    db.execute_in(tx, CREATE_LEDGER, Vec::new()).await?;
    Ok(read_ledger(db, Some(tx)).await?)
}

async fn read_ledger(db: &Db, tx: Option<&Transaction>) -> Result<Vec<LedgerEntry>, DbError> {
    let rows = match tx {
        Some(tx) => db.execute_in(tx, READ_LEDGER, Vec::new()).await?,
        None => db.execute(READ_LEDGER, Vec::new()).await?,
    };
    rows.iter()
        .map(|row| {
            Ok(LedgerEntry {
                version: row.get(0)?,
                name: row.get(1)?,
                checksum: row.get(2)?,
                applied_at: row.get(3)?,
                execution_ms: row.get(4)?,
            })
        })
        .collect()
}

fn problems(ledger: &[LedgerEntry], migrations: &[Migration]) -> Vec<MigrateError> {
    ledger
        .iter()
        .filter_map(
            |entry| match migrations.iter().find(|m| m.version == entry.version) {
                None => Some(MigrateError::MissingFile {
                    version: entry.version,
                    name: entry.name.clone(),
                }),
                Some(m) if m.checksum != entry.checksum => Some(MigrateError::ChecksumMismatch {
                    version: entry.version,
                    applied: entry.checksum.clone(),
                    file: m.checksum.clone(),
                }),
                Some(_) => None,
            },
        )
        .collect()
}

fn validate(ledger: &[LedgerEntry], migrations: &[Migration]) -> Result<(), MigrateError> {
    problems(ledger, migrations)
        .into_iter()
        .next()
        .map_or(Ok(()), Err)
}

fn pending<'m>(ledger: &[LedgerEntry], migrations: &'m [Migration]) -> Vec<&'m Migration> {
    migrations
        .iter()
        .filter(|m| !ledger.iter().any(|e| e.version == m.version))
        .collect()
}

fn current_version(ledger: &[LedgerEntry]) -> i64 {
    ledger.iter().map(|e| e.version).max().unwrap_or(0)
}

async fn run_migration(
    db: &Db,
    tx: &Transaction,
    migration: &Migration,
    statements: &[&str],
    deadline: Option<Instant>,
) -> Result<Step, MigrateError> {
    let started = Instant::now();
    for (index, sql) in statements.iter().enumerate() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(MigrateError::DeadlineApproaching {
                version: migration.version,
            });
        }
        if let Err(source) = db.execute_in(tx, sql, Vec::new()).await {
            return Err(MigrateError::Statement {
                version: migration.version,
                name: migration.name.clone(),
                statement: index + 1,
                sql_start: sql.chars().take(80).collect::<String>().replace('\n', " "),
                source,
            });
        }
    }
    Ok(Step {
        version: migration.version,
        name: migration.name.clone(),
        statements: statements.len(),
        execution_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    })
}

/// Records applied migrations in the ledger with one statement.
async fn record(db: &Db, tx: &Transaction, migrations: &[Migration], steps: &[Step]) -> Result<(), DbError> {
    if steps.is_empty() {
        return Ok(());
    }
    let mut values = Vec::new();
    let mut params = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let checksum = migrations
            .iter()
            .find(|m| m.version == step.version)
            .map(|m| m.checksum.clone());
        values.push(format!("(:v{i}, :n{i}, :c{i}, :e{i})"));
        params.push(param(&format!("v{i}"), &step.version));
        params.push(param(&format!("n{i}"), &step.name));
        params.push(param(&format!("c{i}"), &checksum.unwrap_or_default()));
        params.push(param(&format!("e{i}"), &step.execution_ms));
    }
    let sql = format!(
        "INSERT INTO schema_migrations (version, name, checksum, execution_ms) VALUES {}",
        values.join(", ")
    );
    db.execute_in(tx, &sql, params).await.map(drop)
}
