//! The `migrate` function: brings the database to the migrations embedded in this binary.
//!
//! It answers two kinds of event:
//! - a CloudFormation custom resource request (every deploy): see [`cloudformation`];
//! - a direct invocation `{"action": "up" | "status" | "check" | "down", …}`: see [`Action`].
//!
//! The reply is JSON describing what happened; failures are clear messages, never a panic.

pub mod cloudformation;

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use shared::db::{Db, RetryPolicy};
use shared::migrate::{self, MigrateError, Migration, MigrationFileError};
use shared::schema::{check, tables};

/// What a direct invocation asks for.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
pub enum Action {
    /// Apply every pending migration.
    Up,
    /// Applied and pending versions, and checksum problems.
    Status,
    /// The drift check against the live database.
    Check,
    /// Revert to `to` (`"0"` for nothing); refused unless `confirm` is true.
    Down {
        to: String,
        #[serde(default)]
        confirm: bool,
    },
}

/// Why an invocation failed; the message is what the caller sees.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "unrecognised event: {0}. Send a CloudFormation custom resource request or {{\"action\": \"up\" | \"status\" | \"check\" | \"down\"}}"
    )]
    UnrecognisedEvent(String),
    #[error("down reverts migrations and can lose data; send \"confirm\": true to proceed")]
    DownNotConfirmed,
    #[error("\"to\" must be a migration version such as \"0001\", or \"0\" for none")]
    InvalidVersion,
    #[error("the embedded migrations are invalid: {0}")]
    Files(#[from] MigrationFileError),
    #[error(
        "this build carries no migrations; it was built without the repository's migrations/ directory and must not be deployed"
    )]
    NoMigrations,
    #[error(
        "the template expects schema version {expected:04}, but this build carries migrations up to {embedded:04}: it was built from another checkout than the template; rebuild and deploy again"
    )]
    WrongBuild { expected: i64, embedded: i64 },
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error("the drift check could not run: {0}")]
    Check(#[from] check::CheckError),
}

impl Error {
    /// A stable name for the kind of failure, reported as the Lambda `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnrecognisedEvent(_) => "UnrecognisedEvent",
            Self::DownNotConfirmed => "DownNotConfirmed",
            Self::InvalidVersion => "InvalidVersion",
            Self::Files(_) => "InvalidMigrationFiles",
            Self::NoMigrations => "NoMigrations",
            Self::WrongBuild { .. } => "WrongBuild",
            Self::Migrate(MigrateError::ChecksumMismatch { .. } | MigrateError::MissingFile { .. }) => {
                "LedgerMismatch"
            }
            Self::Migrate(MigrateError::DeadlineApproaching { .. }) => "DeadlineApproaching",
            Self::Migrate(_) => "MigrationFailed",
            Self::Check(_) => "CheckFailed",
        }
    }
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(error: Error) -> Self {
        Self {
            error_type: error.kind().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// When this invocation must be finished by.
#[derive(Debug, Clone, Copy)]
pub struct Invocation {
    pub deadline: Instant,
}

/// Safety margins before the Lambda deadline, at most these long and at most a share of the time
/// an invocation has (a short local timeout must not leave no time at all).
#[derive(Debug, Clone, Copy)]
pub struct Margins {
    /// Do not start another migration statement with less time than this left (capped at a
    /// quarter of the invocation's time).
    pub statement: Duration,
    /// With less than this left, give up waiting, answer CloudFormation FAILED and return (capped
    /// at an eighth of the invocation's time).
    pub watchdog: Duration,
}

impl Default for Margins {
    fn default() -> Self {
        Self {
            statement: Duration::from_secs(10),
            watchdog: Duration::from_secs(5),
        }
    }
}

impl Margins {
    /// The margins for an invocation with `remaining` time.
    pub fn for_remaining(self, remaining: Duration) -> Self {
        Self {
            statement: self.statement.min(remaining / 4),
            watchdog: self.watchdog.min(remaining / 8),
        }
    }
}

/// The migrate function's state, built once per cold start.
pub struct Migrator {
    pub db: Db,
    pub migrations: Result<Vec<Migration>, MigrationFileError>,
    pub http: reqwest::Client,
    pub margins: Margins,
}

impl Migrator {
    /// With the migrations embedded at build time.
    pub fn new(db: Db) -> Self {
        Self::with_migrations(db, migrate::embedded())
    }

    pub fn with_migrations(db: Db, migrations: Result<Vec<Migration>, MigrationFileError>) -> Self {
        Self {
            db,
            migrations,
            http: reqwest::Client::new(),
            margins: Margins::default(),
        }
    }

    /// Handles one event.
    ///
    /// # Errors
    /// [`Error`] for a direct invocation that failed; CloudFormation requests always answer `Ok`
    /// once their response has been sent.
    pub async fn handle(&self, event: Value, invocation: Invocation) -> Result<Value, Error> {
        // Boxed: the engine's nested futures are otherwise too deep a type for the runtime's own.
        if event.get("RequestType").is_some() {
            return Box::pin(cloudformation::handle(self, event, invocation)).await;
        }
        let action: Action =
            serde_json::from_value(event).map_err(|e| Error::UnrecognisedEvent(e.to_string()))?;
        Box::pin(self.act(action, invocation)).await
    }

    pub(crate) fn margins(&self, invocation: Invocation) -> Margins {
        self.margins
            .for_remaining(invocation.deadline.saturating_duration_since(Instant::now()))
    }

    /// The database handle, retrying an auto-paused cluster only while the deadline allows.
    fn db_until(&self, invocation: Invocation) -> Db {
        let remaining = invocation.deadline.saturating_duration_since(Instant::now());
        let budget = remaining.saturating_sub(self.margins(invocation).statement);
        self.db.clone().with_retry(RetryPolicy {
            budget,
            ..RetryPolicy::default()
        })
    }

    /// No migration statement starts after this.
    fn statement_deadline(&self, invocation: Invocation) -> Instant {
        invocation
            .deadline
            .checked_sub(self.margins(invocation).statement)
            .unwrap_or_else(Instant::now)
    }

    /// The embedded migrations, or why they are unusable. None at all is an error, never "nothing
    /// to do": a build without its migrations must not report success on an empty database.
    fn migrations(&self) -> Result<&[Migration], Error> {
        match self.migrations.as_deref() {
            Ok([]) => Err(Error::NoMigrations),
            Ok(migrations) => Ok(migrations),
            Err(e) => Err(Error::Files(e.clone())),
        }
    }

    /// Refuses a build whose newest embedded migration is not the version the template names.
    pub(crate) fn expect_version(&self, expected: i64) -> Result<(), Error> {
        let embedded = self.migrations()?.last().map_or(0, |m| m.version);
        if embedded == expected {
            Ok(())
        } else {
            Err(Error::WrongBuild { expected, embedded })
        }
    }

    /// Applies pending migrations.
    ///
    /// # Errors
    /// [`Error`] from the engine; the database is left as it was.
    pub async fn up(&self, invocation: Invocation) -> Result<migrate::Report, Error> {
        let migrations = self.migrations()?;
        Ok(migrate::up(
            &self.db_until(invocation),
            migrations,
            Some(self.statement_deadline(invocation)),
        )
        .await?)
    }

    async fn act(&self, action: Action, invocation: Invocation) -> Result<Value, Error> {
        let db = self.db_until(invocation);
        match action {
            Action::Up => {
                let report = self.up(invocation).await?;
                Ok(
                    json!({ "action": "up", "applied": report.steps, "currentVersion": report.current_version }),
                )
            }
            Action::Status => {
                let migrations = self.migrations()?;
                let status = migrate::status(&db, migrations).await?;
                let embedded: Vec<Value> = migrations
                    .iter()
                    .map(|m| json!({"version": m.version, "name": m.name, "checksum": m.checksum}))
                    .collect();
                Ok(json!({
                    "action": "status",
                    "embedded": embedded,
                    "applied": status.applied,
                    "pending": status.pending,
                    "problems": status.problems,
                }))
            }
            Action::Check => {
                let differences = check::check(&db, &tables::schema()).await?;
                let lines: Vec<String> = differences.iter().map(ToString::to_string).collect();
                Ok(json!({ "action": "check", "drift": !lines.is_empty(), "differences": lines }))
            }
            Action::Down { confirm: false, .. } => Err(Error::DownNotConfirmed),
            Action::Down { to, confirm: true } => {
                let to: i64 = to.parse().map_err(|_| Error::InvalidVersion)?;
                let migrations = self.migrations()?;
                let report =
                    migrate::down(&db, migrations, to, Some(self.statement_deadline(invocation))).await?;
                Ok(
                    json!({ "action": "down", "reverted": report.steps, "currentVersion": report.current_version }),
                )
            }
        }
    }
}

impl Invocation {
    /// The deadline the Lambda runtime gives this invocation.
    pub fn from_context(context: &lambda_runtime::Context) -> Self {
        let remaining = crate::deadline::remaining(context);
        Self {
            deadline: Instant::now() + remaining,
        }
    }
}
