//! The only way to the database: the RDS Data API, through `aws-sdk-rdsdata`.
//!
//! [`Db`] holds the client and the cluster, secret and database it talks to; every call is one
//! network round trip in production, so handlers make as few as their budget allows. Locally the
//! same client talks to data-api-local (`AWS_ENDPOINT_URL_RDS_DATA`); there is no other path.
//!
//! The SDK's own retries are off: a retried `ExecuteStatement` could run a non-idempotent statement
//! twice. [`Db`] retries only the errors that guarantee the statement did not run
//! (`DatabaseResumingException` from an auto-paused Aurora Serverless v2 cluster, throttling,
//! `ServiceUnavailableError`), with capped exponential backoff inside a deadline.

pub mod json_record;
pub mod value;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_rdsdata::Client;
use aws_sdk_rdsdata::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_rdsdata::types::{Field, SqlParameter};
use rand::Rng;

pub use value::{DecodeError, FromField, SqlColumn, ToParam};

/// The HTTPS client every AWS client is built with: rustls over ring, the crypto the rest of the
/// binary already links (also speaks plain HTTP, for data-api-local).
///
/// It trusts the Mozilla root certificates compiled into the binary (`webpki-root-certs`, which
/// include Amazon's) rather than the system store: reading and parsing the system's certificate
/// files cost 1.5–4.7 ms of every cold start here (docs/performance.md).
pub fn https_client() -> aws_sdk_rdsdata::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
    static CONTEXT: std::sync::OnceLock<TlsContext> = std::sync::OnceLock::new();
    let context = CONTEXT.get_or_init(|| {
        let mut trust = TrustStore::empty();
        for certificate in trusted_root_certificates() {
            trust.add_pem_certificate(pem(certificate));
        }
        TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .expect("a trust store without native roots always builds")
    });
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(context.clone())
        .build_https()
}

/// The root certificates every HTTPS client of the functions trusts (DER): Mozilla's, compiled in.
pub fn trusted_root_certificates() -> impl Iterator<Item = &'static [u8]> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(AsRef::as_ref)
}

/// A DER certificate as PEM, the form the SDK's trust store takes.
fn pem(der: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out.into_bytes()
}

/// A named parameter, e.g. `param("id", &account_id)`.
pub fn param(name: &str, value: &(impl ToParam + ?Sized)) -> SqlParameter {
    let (field, hint) = value.to_field();
    SqlParameter::builder()
        .name(name)
        .value(field)
        .set_type_hint(hint)
        .build()
}

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLState 23505: the named unique constraint (or index) already holds the value.
    #[error("unique constraint {constraint} violated")]
    UniqueViolation { constraint: String },
    /// Any other error PostgreSQL reported for the statement.
    #[error("database error (SQLState {sql_state}): {message}")]
    Database { sql_state: String, message: String },
    /// The transaction id is unknown: ended, or expired after 3 idle minutes.
    #[error("transaction not found")]
    TransactionNotFound,
    /// The cluster is still resuming after the retry deadline.
    #[error("the database is resuming from auto-pause; try again shortly")]
    Resuming,
    #[error("the statement ran longer than the Data API allows")]
    Timeout,
    /// Any other Data API or transport failure, with its code when the service gave one.
    #[error("Data API call failed ({code}): {message}")]
    Api { code: String, message: String },
    #[error("unexpected result: {0}")]
    Decode(#[from] DecodeError),
}

impl DbError {
    /// The SQLState of a database error, if this is one.
    pub fn sql_state(&self) -> Option<&str> {
        match self {
            Self::UniqueViolation { .. } => Some("23505"),
            Self::Database { sql_state, .. } => Some(sql_state),
            _ => None,
        }
    }

    /// A serialization failure or deadlock: the statement was rolled back because it raced
    /// another, and run again alone it succeeds.
    pub fn is_conflict(&self) -> bool {
        matches!(self.sql_state(), Some("40001" | "40P01"))
    }

    /// The server ended the statement's connection (an administrator or a failover terminated
    /// the backend): PostgreSQL rolled the statement back, and run again on another connection
    /// it succeeds.
    pub fn is_interrupted(&self) -> bool {
        matches!(self.sql_state(), Some(code) if code.starts_with("57P") || code.starts_with("08"))
    }

    /// The database could not finish the statement and the client may try again: a statement
    /// timeout (the statement was cancelled), a terminated connection, or no connection.
    pub fn is_transient(&self) -> bool {
        self.is_interrupted()
            || matches!(self, Self::Timeout)
            // PostgreSQL's own statement_timeout (the application role's 20 s): query_canceled.
            || self.sql_state() == Some("57014")
            || matches!(self, Self::Api { code, .. } if code == "DatabaseUnavailableException")
    }

    fn is_retryable(&self) -> bool {
        matches!(self, Self::Resuming)
            || matches!(self, Self::Api { code, .. } if code == "ThrottlingException" || code == "ServiceUnavailableError")
    }

    fn from_sdk<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
        error: SdkError<E, R>,
    ) -> Self {
        let code = error.code().unwrap_or_default().to_owned();
        let message = error.message().unwrap_or_default().to_owned();
        match code.as_str() {
            "DatabaseErrorException" => database_error(message),
            "TransactionNotFoundException" => Self::TransactionNotFound,
            "DatabaseResumingException" => Self::Resuming,
            "StatementTimeoutException" => Self::Timeout,
            "" => Self::Api {
                code: "Transport".to_owned(),
                message: format!("{error:?}"),
            },
            _ => Self::Api { code, message },
        }
    }
}

/// Splits `ERROR: …; SQLState: 23505` into a typed error; unique violations name their constraint.
fn database_error(message: String) -> DbError {
    let (text, sql_state) = match message.rsplit_once("; SQLState: ") {
        Some((text, code)) => (text.to_owned(), code.trim().to_owned()),
        None => (message.clone(), String::new()),
    };
    if sql_state == "23505" {
        let constraint = text.split('"').nth(1).unwrap_or_default().to_owned();
        return DbError::UniqueViolation { constraint };
    }
    DbError::Database {
        sql_state,
        message: text,
    }
}

/// How long to keep retrying errors that guarantee nothing ran.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Give up once this much time has passed since the first attempt.
    pub budget: Duration,
    /// Never wait past this instant, however many calls share it: a request's own deadline, so
    /// that all its calls together still leave time to answer 503 with `Retry-After`.
    pub give_up_at: Option<Instant>,
}

impl Default for RetryPolicy {
    /// An auto-paused Aurora Serverless v2 cluster takes about 15 s to resume.
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(5),
            budget: Duration::from_secs(30),
            give_up_at: None,
        }
    }
}

impl RetryPolicy {
    /// Whether another attempt after waiting `delay` stays within the budget and the deadline.
    fn allows(&self, started: Instant, delay: Duration) -> bool {
        started.elapsed() + delay < self.budget
            && self.give_up_at.is_none_or(|end| Instant::now() + delay < end)
    }
}

/// Where statements go, and how.
#[derive(Clone)]
pub struct Db {
    client: Client,
    resource_arn: String,
    secret_arn: String,
    database: String,
    retry: RetryPolicy,
    calls: Arc<AtomicU64>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("database", &self.database)
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

/// The AWS configuration the functions' clients are built from: the standard configuration (which
/// honours `AWS_REGION`, `AWS_ENDPOINT_URL_RDS_DATA` and `AWS_ENDPOINT_URL_SECRETS_MANAGER`, i.e.
/// data-api-local), credentials from the environment, [`https_client`], and no SDK retries (the
/// Data API's are [`RetryPolicy`]'s).
///
/// Lambda always puts the function's credentials in the environment; building the default
/// credentials chain (profiles, SSO, web identity, ECS, IMDS) instead costs about 3 ms of every
/// cold start for providers that are never asked (docs/performance.md).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new())
        .http_client(https_client())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

/// Why [`Db::from_env`] could not build a client.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub &'static str);

impl Db {
    pub fn new(client: Client, resource_arn: &str, secret_arn: &str, database: &str) -> Self {
        Self {
            client,
            resource_arn: resource_arn.to_owned(),
            secret_arn: secret_arn.to_owned(),
            database: database.to_owned(),
            retry: RetryPolicy::default(),
            calls: Arc::default(),
        }
    }

    /// A handle on another database (or with another login) through the same client, with the
    /// same retry policy and a call counter of its own.
    pub fn on(&self, resource_arn: &str, secret_arn: &str, database: &str) -> Self {
        Self {
            resource_arn: resource_arn.to_owned(),
            secret_arn: secret_arn.to_owned(),
            database: database.to_owned(),
            calls: Arc::default(),
            ..self.clone()
        }
    }

    /// A handle on the same database with its own call counter, so one request's round trips
    /// can be counted and logged.
    pub fn counting(&self) -> Self {
        Self {
            calls: Arc::default(),
            ..self.clone()
        }
    }

    /// Data API calls made through this handle (and its clones) so far, retries included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Reads `DB_CLUSTER_ARN`, `DB_SECRET_ARN` and `DB_NAME` and builds the client from the
    /// standard AWS configuration chain, which honours `AWS_ENDPOINT_URL_RDS_DATA` (data-api-local).
    ///
    /// # Errors
    /// [`MissingEnv`] naming the first variable that is not set.
    pub async fn from_env() -> Result<Self, MissingEnv> {
        Self::from_env_with_secret("DB_SECRET_ARN", &aws_config().await)
    }

    /// As [`Self::from_env`], with the login's secret ARN read from `secret_var` (the migrate
    /// function logs in as the master, `DB_MASTER_SECRET_ARN`, where the API functions use the
    /// application role's `DB_SECRET_ARN`), and a configuration the caller loaded once for all
    /// its clients.
    ///
    /// # Errors
    /// [`MissingEnv`] naming the first variable that is not set.
    pub fn from_env_with_secret(
        secret_var: &'static str,
        config: &aws_config::SdkConfig,
    ) -> Result<Self, MissingEnv> {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or(MissingEnv(name))
        };
        let (cluster, secret, database) = (var("DB_CLUSTER_ARN")?, var(secret_var)?, var("DB_NAME")?);
        Ok(Self::new(Client::new(config), &cluster, &secret, &database))
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// Runs one statement (outside any transaction: it autocommits).
    ///
    /// # Errors
    /// [`DbError`]; retryable errors are retried first.
    pub async fn execute(&self, sql: &str, params: Vec<SqlParameter>) -> Result<Rows, DbError> {
        self.run(sql, params, None).await
    }

    /// Runs one statement inside `transaction`.
    ///
    /// # Errors
    /// As [`Self::execute`].
    pub async fn execute_in(
        &self,
        transaction: &Transaction,
        sql: &str,
        params: Vec<SqlParameter>,
    ) -> Result<Rows, DbError> {
        self.run(sql, params, Some(&transaction.id)).await
    }

    /// A statement outside a transaction that lost a race ([`DbError::is_conflict`]) or whose
    /// connection was terminated ([`DbError::is_interrupted`]) left nothing behind and is run
    /// again, this many times at most, after a short random pause.
    const CONFLICT_ATTEMPTS: u32 = 8;

    async fn run(
        &self,
        sql: &str,
        params: Vec<SqlParameter>,
        transaction: Option<&str>,
    ) -> Result<Rows, DbError> {
        let mut attempt = 1;
        loop {
            match self.run_once(sql, &params, transaction).await {
                Err(error)
                    if (error.is_conflict() || error.is_interrupted())
                        && transaction.is_none()
                        && attempt < Self::CONFLICT_ATTEMPTS =>
                {
                    tracing::info!(%error, attempt, "statement rolled back by the server; running it again");
                    let pause = rand::rng().random_range(1..=5 * u64::from(attempt));
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn run_once(
        &self,
        sql: &str,
        params: &[SqlParameter],
        transaction: Option<&str>,
    ) -> Result<Rows, DbError> {
        self.retrying(|| async {
            let output = self
                .client
                .execute_statement()
                .resource_arn(&self.resource_arn)
                .secret_arn(&self.secret_arn)
                .database(&self.database)
                .sql(sql)
                .set_parameters(Some(params.to_vec()))
                .set_transaction_id(transaction.map(str::to_owned))
                .send()
                .await
                .map_err(DbError::from_sdk)?;
            Ok(Rows {
                records: output.records.unwrap_or_default(),
                updated: output.number_of_records_updated,
            })
        })
        .await
    }

    /// Starts a transaction (one round trip); end it with [`Self::commit`] or [`Self::rollback`].
    ///
    /// # Errors
    /// As [`Self::execute`].
    pub async fn begin(&self) -> Result<Transaction, DbError> {
        self.retrying(|| async {
            let output = self
                .client
                .begin_transaction()
                .resource_arn(&self.resource_arn)
                .secret_arn(&self.secret_arn)
                .database(&self.database)
                .send()
                .await
                .map_err(DbError::from_sdk)?;
            Ok(Transaction {
                id: output.transaction_id.unwrap_or_default(),
            })
        })
        .await
    }

    /// # Errors
    /// As [`Self::execute`]; a deferred constraint can fail here.
    pub async fn commit(&self, transaction: Transaction) -> Result<(), DbError> {
        self.retrying(|| async {
            self.client
                .commit_transaction()
                .resource_arn(&self.resource_arn)
                .secret_arn(&self.secret_arn)
                .transaction_id(&transaction.id)
                .send()
                .await
                .map(drop)
                .map_err(DbError::from_sdk)
        })
        .await
    }

    /// # Errors
    /// As [`Self::execute`].
    pub async fn rollback(&self, transaction: Transaction) -> Result<(), DbError> {
        self.retrying(|| async {
            self.client
                .rollback_transaction()
                .resource_arn(&self.resource_arn)
                .secret_arn(&self.secret_arn)
                .transaction_id(&transaction.id)
                .send()
                .await
                .map(drop)
                .map_err(DbError::from_sdk)
        })
        .await
    }

    async fn retrying<T, F, Fut>(&self, mut call: F) -> Result<T, DbError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DbError>>,
    {
        let started = Instant::now();
        let mut delay = self.retry.first_delay;
        loop {
            self.calls.fetch_add(1, Ordering::Relaxed);
            match call().await {
                Err(error) if error.is_retryable() && self.retry.allows(started, delay) => {
                    tracing::info!(%error, delay_ms = delay.as_millis() as u64, "retrying Data API call");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.retry.max_delay);
                }
                other => return other,
            }
        }
    }
}

/// An open Data API transaction. Pass it to [`Db::commit`] or [`Db::rollback`]; one that is
/// simply dropped is rolled back by the Data API after 3 idle minutes.
#[derive(Debug)]
pub struct Transaction {
    id: String,
}

impl Transaction {
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The records of one statement and the number of rows it changed.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub records: Vec<Vec<Field>>,
    pub updated: i64,
}

impl Rows {
    /// Rows whose records were carried as JSON text (see [`json_record`]).
    ///
    /// # Errors
    /// As [`json_record::decode`].
    pub fn from_json_records<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Self, DecodeError> {
        let records = texts
            .into_iter()
            .map(json_record::decode)
            .collect::<Result<_, _>>()?;
        Ok(Self { records, updated: 0 })
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.records.iter().map(|r| Row(r))
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<Row<'_>> {
        self.records.first().map(|r| Row(r))
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// One record; columns by position, in the statement's `SELECT`/`RETURNING` order.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a>(&'a [Field]);

impl Row<'_> {
    /// # Errors
    /// [`DecodeError`] when the column is missing or holds another type.
    pub fn get<T: FromField>(&self, index: usize) -> Result<T, DecodeError> {
        T::from_field(self.0.get(index).ok_or(DecodeError::MissingColumn(index))?)
    }
}
