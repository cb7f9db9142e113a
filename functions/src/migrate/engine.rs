//! The migration engine behind the `migrate` function: the [`Migrator`] over one database and its
//! embedded migrations, what a direct invocation may ask ([`Action`]), and its errors. The event
//! dispatch lives in the parent module, the custom resource in [`super::cloudformation`]; both use
//! this module, which uses neither.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use shared::db::{Db, DbError, MissingEnv, RetryPolicy};
use shared::migrate::{self, AppRole, AppRoleError, MigrateError, Migration, MigrationFileError};
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
    #[error("reading the application role's secret failed: {0}")]
    AppRoleSecret(String),
    #[error(transparent)]
    AppRole(#[from] AppRoleError),
    #[error("the migrations were applied, but keeping the application role failed: {0}")]
    AppRoleKeep(DbError),
    #[error("the function is not configured: {0}")]
    Unconfigured(String),
    #[error(
        "the custom resource must name the database it migrates: property {0} is missing (template.yaml passes ClusterArn, DatabaseName, MasterSecretArn and AppSecretArn)"
    )]
    MissingProperty(&'static str),
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
            Self::AppRoleSecret(_) | Self::AppRole(_) | Self::AppRoleKeep(_) => "AppRoleFailed",
            Self::Unconfigured(_) => "Unconfigured",
            Self::MissingProperty(_) => "MissingProperty",
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

/// Where the API functions' database login lives: a Secrets Manager secret with `username` and
/// `password`, which the API functions give the Data API and this function turns into a role.
#[derive(Debug, Clone)]
pub struct AppRoleSecret {
    pub client: aws_sdk_secretsmanager::Client,
    pub arn: String,
}

impl AppRoleSecret {
    /// Reads the secret (on every run, so a rotated password is applied by the next deploy).
    ///
    /// # Errors
    /// [`Error::AppRoleSecret`] or [`Error::AppRole`].
    pub async fn read(&self) -> Result<AppRole, Error> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.arn)
            .send()
            .await
            .map_err(|e| {
                Error::AppRoleSecret(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())
            })?;
        let text = output
            .secret_string()
            .ok_or_else(|| Error::AppRoleSecret(format!("{} has no SecretString", self.arn)))?;
        Ok(AppRole::from_secret_string(text)?)
    }
}

/// The database a CloudFormation request migrates and the logins to use, named by the custom
/// resource's properties rather than the function's environment: a new database (a changed
/// `DatabaseName`, a replaced cluster) changes the properties, so CloudFormation runs the function
/// again, and the run cannot act on a stale environment. The function's IAM policy still bounds
/// which cluster and secrets it can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub cluster_arn: String,
    pub database_name: String,
    pub master_secret_arn: String,
    pub app_secret_arn: String,
}

impl Target {
    /// From the custom resource's `ResourceProperties`.
    ///
    /// # Errors
    /// [`Error::MissingProperty`] naming the first one missing or empty.
    pub fn from_properties(properties: &Value) -> Result<Self, Error> {
        let text = |name: &'static str| {
            properties
                .get(name)
                .and_then(Value::as_str)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
                .ok_or(Error::MissingProperty(name))
        };
        Ok(Self {
            cluster_arn: text("ClusterArn")?,
            database_name: text("DatabaseName")?,
            master_secret_arn: text("MasterSecretArn")?,
            app_secret_arn: text("AppSecretArn")?,
        })
    }
}

/// The migrate function's state, built once per cold start.
pub struct Migrator {
    /// The database of direct invocations, from the environment; a CloudFormation request names
    /// its own ([`Target`]) and reaches it through the same client.
    pub db: Db,
    pub migrations: Result<Vec<Migration>, MigrationFileError>,
    /// The API functions' role, kept after every successful `up`; `None` only in tests of the
    /// engine's behaviour.
    pub app_role: Option<AppRoleSecret>,
    pub http: reqwest::Client,
    pub margins: Margins,
}

impl Migrator {
    /// From the environment: the database (`DB_CLUSTER_ARN`, `DB_NAME`, and the master login's
    /// `DB_MASTER_SECRET_ARN`), `APP_DB_SECRET_ARN` (the API functions' login, whose role this
    /// function keeps) and the migrations embedded at build time.
    ///
    /// # Errors
    /// [`MissingEnv`] naming the first variable that is not set.
    pub async fn from_env() -> Result<Self, MissingEnv> {
        // One configuration for both clients: loading it is part of every cold start.
        let config = shared::db::aws_config().await;
        let db = Db::from_env_with_secret("DB_MASTER_SECRET_ARN", &config)?;
        let arn = std::env::var("APP_DB_SECRET_ARN")
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or(MissingEnv("APP_DB_SECRET_ARN"))?;
        let client = aws_sdk_secretsmanager::Client::new(&config);
        let mut migrator = Self::with_migrations(db, migrate::embedded());
        migrator.app_role = Some(AppRoleSecret { client, arn });
        Ok(migrator)
    }

    pub fn with_migrations(db: Db, migrations: Result<Vec<Migration>, MigrationFileError>) -> Self {
        Self {
            db,
            migrations,
            app_role: None,
            http: https_client(),
            margins: Margins::default(),
        }
    }

    pub(crate) fn margins(&self, invocation: Invocation) -> Margins {
        self.margins
            .for_remaining(invocation.deadline.saturating_duration_since(Instant::now()))
    }

    /// The database handle, retrying an auto-paused cluster only while the deadline allows.
    fn db_until(&self, invocation: Invocation) -> Db {
        self.retrying_until(&self.db, invocation)
    }

    fn retrying_until(&self, db: &Db, invocation: Invocation) -> Db {
        let remaining = invocation.deadline.saturating_duration_since(Instant::now());
        let budget = remaining.saturating_sub(self.margins(invocation).statement);
        db.clone().with_retry(RetryPolicy {
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

    /// Applies pending migrations, then keeps the application role (creates it, sets its password
    /// from its secret and grants it every table, new ones included).
    ///
    /// # Errors
    /// [`Error`] from the engine (the database is left as it was), or from keeping the role (the
    /// migrations stay applied; the next run keeps the role again).
    pub async fn up(&self, invocation: Invocation) -> Result<migrate::Report, Error> {
        self.up_on(&self.db, self.app_role.as_ref(), invocation).await
    }

    /// As [`Self::up`], on the database and with the logins a CloudFormation request names.
    ///
    /// # Errors
    /// As [`Self::up`].
    pub async fn up_target(&self, target: &Target, invocation: Invocation) -> Result<migrate::Report, Error> {
        let db = self.db.on(
            &target.cluster_arn,
            &target.master_secret_arn,
            &target.database_name,
        );
        let app_role = self.app_role.as_ref().map(|secret| AppRoleSecret {
            client: secret.client.clone(),
            arn: target.app_secret_arn.clone(),
        });
        self.up_on(&db, app_role.as_ref(), invocation).await
    }

    async fn up_on(
        &self,
        db: &Db,
        app_role: Option<&AppRoleSecret>,
        invocation: Invocation,
    ) -> Result<migrate::Report, Error> {
        let migrations = self.migrations()?;
        let db = self.retrying_until(db, invocation);
        let report = migrate::up(&db, migrations, Some(self.statement_deadline(invocation))).await?;
        if let Some(secret) = app_role {
            let role = secret.read().await?;
            migrate::app_role::keep(&db, &role)
                .await
                .map_err(Error::AppRoleKeep)?;
        }
        Ok(report)
    }

    pub(super) async fn act(&self, action: Action, invocation: Invocation) -> Result<Value, Error> {
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

/// The client that answers CloudFormation's pre-signed S3 URL, trusting the same compiled-in roots
/// as the AWS clients.
pub fn https_client() -> reqwest::Client {
    let mut builder = reqwest::Client::builder().tls_built_in_root_certs(false);
    for der in shared::db::trusted_root_certificates() {
        match reqwest::Certificate::from_der(der) {
            Ok(certificate) => builder = builder.add_root_certificate(certificate),
            Err(error) => tracing::warn!(%error, "skipping a root certificate"),
        }
    }
    builder.build().unwrap_or_else(|error| {
        tracing::error!(%error, "building the HTTPS client failed; using one without roots");
        reqwest::Client::new()
    })
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
