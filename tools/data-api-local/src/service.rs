//! The Data API operations over PostgreSQL: connection pools per database, transactions pinned to
//! one connection, call counters, and injected faults.
//!
//! Calls outside a transaction take a pooled connection and autocommit. `BeginTransaction` takes a
//! connection out of the pool and keeps it until `CommitTransaction`, `RollbackTransaction`, or
//! [`Config::transaction_idle_timeout`] without a call (then it is rolled back and forgotten, as
//! the Data API does after 3 minutes). A call on a transaction that is still running another
//! statement is refused rather than queued.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio_postgres::NoTls;

use crate::engine::{self, Limits, RESPONSE_TOO_LARGE};
use crate::error::{ApiError, ErrorKind};
use crate::protocol::{
    BatchExecuteStatementRequest, BatchExecuteStatementResponse, BeginTransactionRequest,
    BeginTransactionResponse, EndTransactionRequest, EndTransactionResponse, ExecuteStatementRequest, Target,
    UpdateResult,
};
use crate::secrets::{self, Credentials};

/// How the emulator runs; [`Config::new`] gives the Data API's own limits.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where PostgreSQL is, e.g. `postgres://postgres@127.0.0.1:5432`; the database part is
    /// replaced by each request's `database`.
    pub postgres_url: String,
    /// The database for requests that name none (on AWS: the secret's default).
    pub default_database: String,
    /// A transaction with no call for this long is rolled back and forgotten (AWS: 3 minutes).
    pub transaction_idle_timeout: Duration,
    /// A statement running longer answers `StatementTimeoutException` (AWS: 45 seconds).
    pub statement_timeout: Duration,
    /// Larger responses are refused (AWS: 1 MiB).
    pub max_response_bytes: usize,
    /// A result row larger than this (the sum of its values as the database sends them) is
    /// refused (AWS: 64 KB).
    pub max_row_bytes: usize,
    /// A larger request, headers and body together, is refused unread (AWS: 4 MiB).
    pub max_request_bytes: usize,
    /// Connections per database pool.
    pub pool_size: usize,
    /// Database logins by secret ARN (see [`crate::secrets`]); `None` is the master (the
    /// PostgreSQL URL's user). Empty: every call is the master, whatever its secret.
    pub secrets: BTreeMap<String, Option<Credentials>>,
    /// Secrets that are not database logins (a token signing key, say): ARN → `SecretString`,
    /// served by `GetSecretValue` only; a Data API call naming one is refused like any unknown.
    pub secret_strings: BTreeMap<String, String>,
}

impl Config {
    pub fn new(postgres_url: impl Into<String>) -> Self {
        Self {
            postgres_url: postgres_url.into(),
            default_database: "postgres".to_owned(),
            transaction_idle_timeout: Duration::from_secs(180),
            statement_timeout: Duration::from_secs(45),
            max_response_bytes: 1024 * 1024,
            max_row_bytes: 64 * 1024,
            max_request_bytes: 4 * 1024 * 1024,
            pool_size: 16,
            secrets: BTreeMap::new(),
            secret_strings: BTreeMap::new(),
        }
    }
}

/// The Data API operations, which are what the counters count and faults can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    ExecuteStatement,
    BatchExecuteStatement,
    BeginTransaction,
    CommitTransaction,
    RollbackTransaction,
    ExecuteSql,
}

/// Calls received, per operation, since start or the last reset. Every call counts, failed and
/// fault-injected ones included: each is a round trip on AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    pub execute_statement: u64,
    pub batch_execute_statement: u64,
    pub begin_transaction: u64,
    pub commit_transaction: u64,
    pub rollback_transaction: u64,
    pub execute_sql: u64,
    pub total: u64,
}

impl Counters {
    fn count(&mut self, operation: Operation) {
        self.total += 1;
        *match operation {
            Operation::ExecuteStatement => &mut self.execute_statement,
            Operation::BatchExecuteStatement => &mut self.batch_execute_statement,
            Operation::BeginTransaction => &mut self.begin_transaction,
            Operation::CommitTransaction => &mut self.commit_transaction,
            Operation::RollbackTransaction => &mut self.rollback_transaction,
            Operation::ExecuteSql => &mut self.execute_sql,
        } += 1;
    }
}

/// The counters overall and per database, and the errors answered by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub all: Counters,
    pub databases: HashMap<String, Counters>,
    /// Error answers by error type (`DatabaseErrorException` with its SQLState), injected ones
    /// included.
    #[serde(default)]
    pub errors: BTreeMap<String, u64>,
}

impl Stats {
    /// The counters of one database (zero when it had no call).
    pub fn database(&self, name: &str) -> Counters {
        self.databases.get(name).cloned().unwrap_or_default()
    }
}

/// Makes the next `count` calls (of `operations`, or of any operation) fail with `error`, after
/// letting `skip` of them through (to fail, say, a request's second call and not its first).
///
/// With `timeout_ms`, the calls are not refused: their statements run with a statement timeout of
/// that many milliseconds instead of 45 s, so one still running then is cancelled midway and
/// answers `StatementTimeoutException`, as a long statement would on AWS (`error` is then unused).
///
/// With `answer_lost`, an `ExecuteStatement` call is not refused either: its statement runs (and
/// commits, outside a transaction), then the call answers `error`, as when the answer of a call
/// that did its work is lost on its way back to the function.
#[derive(Debug, Clone, Deserialize)]
pub struct Fault {
    pub error: ErrorKind,
    pub count: u32,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub operations: Option<Vec<Operation>>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub skip: u32,
    #[serde(default)]
    pub answer_lost: bool,
}

impl Fault {
    /// The next `count` calls of any operation fail with `error`.
    pub fn new(error: ErrorKind, count: u32) -> Self {
        Self {
            error,
            count,
            message: None,
            operations: None,
            timeout_ms: None,
            skip: 0,
            answer_lost: false,
        }
    }
}

struct Transaction {
    database: String,
    connection: tokio::sync::Mutex<Object>,
    last_used: Mutex<Instant>,
}

/// The emulator's state; cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    base: tokio_postgres::Config,
    /// By (database, login user; empty for the master).
    pools: Mutex<HashMap<(String, String), Pool>>,
    transactions: Mutex<HashMap<String, Arc<Transaction>>>,
    stats: Mutex<Stats>,
    faults: Mutex<VecDeque<Fault>>,
}

/// A call's answer, or the error an injected fault answers instead once the call did its work.
fn lose<T>(result: Result<T, ApiError>, lost: Option<ApiError>) -> Result<T, ApiError> {
    match (result, lost) {
        (Ok(_), Some(error)) => Err(error),
        (result, _) => result,
    }
}

/// Closes a pooled connection a statement timeout sent a cancel to, instead of giving it back:
/// PostgreSQL may act on the cancel late, and it must not stop the next caller's statement.
fn retire_if_cancelled(connection: deadpool_postgres::Object, cancelled: &AtomicBool) {
    if cancelled.load(std::sync::atomic::Ordering::Relaxed) {
        drop(deadpool_postgres::Object::take(connection));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these maps leaves it consistent; keep serving.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Service {
    /// # Errors
    /// When `config.postgres_url` is not a PostgreSQL connection string.
    pub fn new(config: Config) -> Result<Self, tokio_postgres::Error> {
        let mut base: tokio_postgres::Config = config.postgres_url.parse()?;
        base.application_name("data-api-local");
        // Aurora's default; timestamps bound without an offset are read as UTC.
        base.options("-c TimeZone=UTC");
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                base,
                pools: Mutex::default(),
                transactions: Mutex::default(),
                stats: Mutex::default(),
                faults: Mutex::default(),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn stats(&self) -> Stats {
        lock(&self.inner.stats).clone()
    }

    /// Counts an error answered to a call.
    pub fn count_error(&self, error: &ApiError) {
        let name = match error.sql_state() {
            Some(code) => format!("{} {code}", error.kind.name()),
            None => error.kind.name().to_owned(),
        };
        *lock(&self.inner.stats).errors.entry(name).or_default() += 1;
    }

    pub fn reset_stats(&self) {
        *lock(&self.inner.stats) = Stats::default();
    }

    pub fn inject(&self, fault: Fault) {
        lock(&self.inner.faults).push_back(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    /// Counts the call and answers an injected fault if one is due; otherwise the limits the
    /// call's statements run under (an injected timeout shortens them), and the error to answer
    /// once they ran, if an injected fault loses their answer.
    fn arrive(&self, operation: Operation, database: &str) -> Result<(Limits, Option<ApiError>), ApiError> {
        {
            let mut stats = lock(&self.inner.stats);
            stats.all.count(operation);
            stats
                .databases
                .entry(database.to_owned())
                .or_default()
                .count(operation);
        }
        let mut faults = lock(&self.inner.faults);
        let due = faults
            .iter_mut()
            .find(|f| f.count > 0 && f.operations.as_ref().is_none_or(|ops| ops.contains(&operation)));
        let Some(fault) = due else {
            return Ok((self.limits(), None));
        };
        if fault.skip > 0 {
            fault.skip -= 1;
            return Ok((self.limits(), None));
        }
        fault.count -= 1;
        if let Some(ms) = fault.timeout_ms {
            faults.retain(|f| f.count > 0);
            let limits = Limits {
                statement_timeout: Duration::from_millis(ms),
                ..self.limits()
            };
            return Ok((limits, None));
        }
        let error = ApiError::new(
            fault.error,
            fault
                .message
                .clone()
                .unwrap_or_else(|| fault.error.default_message().to_owned()),
        );
        let answer_lost = fault.answer_lost && operation == Operation::ExecuteStatement;
        faults.retain(|f| f.count > 0);
        if answer_lost {
            return Ok((self.limits(), Some(error)));
        }
        Err(error)
    }

    fn limits(&self) -> Limits {
        Limits {
            statement_timeout: self.inner.config.statement_timeout,
            max_response_bytes: self.inner.config.max_response_bytes,
            max_row_bytes: self.inner.config.max_row_bytes,
        }
    }

    fn database_of(&self, target: &Target) -> String {
        target
            .database
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| self.inner.config.default_database.clone())
    }

    /// The login a call's secret stands for: `None` is the master (the PostgreSQL URL's user).
    ///
    /// # Errors
    /// `BadRequestException` for a secret that is not registered, once any is.
    fn login(&self, target: &Target) -> Result<Option<&Credentials>, ApiError> {
        let secrets = &self.inner.config.secrets;
        if secrets.is_empty() {
            return Ok(None);
        }
        let arn = target.secret_arn.as_deref().unwrap_or_default();
        secrets
            .get(arn)
            .map(Option::as_ref)
            .ok_or_else(|| ApiError::bad_request(secrets::SECRET_NOT_FOUND))
    }

    /// `GetSecretValue` of a registered secret (a login's, or a `secret_strings` one).
    ///
    /// # Errors
    /// `ResourceNotFoundException` for any other id.
    pub fn get_secret_value(
        &self,
        request: &secrets::GetSecretValueRequest,
    ) -> Result<secrets::GetSecretValueResponse, ApiError> {
        let id = request.secret_id.as_deref().unwrap_or_default();
        if request
            .version_id
            .as_deref()
            .is_some_and(|v| v != secrets::VERSION_ID)
        {
            return Err(secrets::not_found());
        }
        if let Some(text) = self.inner.config.secret_strings.get(id) {
            return Ok(secrets::GetSecretValueResponse::text(id, text));
        }
        let login = self.inner.config.secrets.get(id).ok_or_else(secrets::not_found)?;
        let credentials = login.clone().unwrap_or_else(|| {
            let base = &self.inner.base;
            Credentials {
                username: base.get_user().unwrap_or_default().to_owned(),
                password: String::from_utf8_lossy(base.get_password().unwrap_or_default()).into_owned(),
            }
        });
        Ok(secrets::GetSecretValueResponse::new(id, &credentials))
    }

    fn pool(&self, database: &str, target: &Target) -> Result<Pool, ApiError> {
        let login = self.login(target)?;
        let key = (
            database.to_owned(),
            login.map(|l| l.username.clone()).unwrap_or_default(),
        );
        let mut pools = lock(&self.inner.pools);
        if let Some(pool) = pools.get(&key) {
            return Ok(pool.clone());
        }
        let mut config = self.inner.base.clone();
        config.dbname(database);
        if let Some(login) = login {
            config.user(&login.username).password(&login.password);
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            // A connection goes back clean: no open transaction, settings or session locks.
            ManagerConfig {
                recycling_method: RecyclingMethod::Custom(
                    "ROLLBACK; RESET ALL; SELECT pg_advisory_unlock_all()".to_owned(),
                ),
            },
        );
        let pool = Pool::builder(manager)
            .max_size(self.inner.config.pool_size)
            .build()
            .expect("a pool without a runtime-dependent timeout always builds");
        pools.insert(key, pool.clone());
        Ok(pool)
    }

    fn check_target(target: &Target) -> Result<(), ApiError> {
        check_arns(target.resource_arn.as_deref(), target.secret_arn.as_deref())
    }

    /// `ExecuteStatement`.
    pub async fn execute_statement(
        &self,
        request: ExecuteStatementRequest,
    ) -> Result<engine::JsonBody, ApiError> {
        if let Some(id) = &request.transaction_id {
            let transaction = self.transaction(id)?;
            let (limits, lost) = self.arrive(Operation::ExecuteStatement, &transaction.database)?;
            Self::check_target(&request.target)?;
            let connection = busy_guard(&transaction)?;
            // A timed-out statement aborts the transaction anyway; its owner rolls it back.
            let result = engine::execute(&connection, &request, limits, &AtomicBool::new(false)).await;
            drop(connection);
            self.touch_or_forget(id, &transaction, result.as_ref().err())
                .await;
            return lose(result, lost);
        }
        let database = self.database_of(&request.target);
        let (limits, lost) = self.arrive(Operation::ExecuteStatement, &database)?;
        Self::check_target(&request.target)?;
        let connection = self.pool(&database, &request.target)?.get().await?;
        let cancelled = AtomicBool::new(false);
        let result = engine::execute(&connection, &request, limits, &cancelled).await;
        retire_if_cancelled(connection, &cancelled);
        lose(result, lost)
    }

    /// `BatchExecuteStatement`: every parameter set, all or nothing.
    pub async fn batch_execute_statement(
        &self,
        request: BatchExecuteStatementRequest,
    ) -> Result<BatchExecuteStatementResponse, ApiError> {
        let cancelled = AtomicBool::new(false);
        let run = async |client: &tokio_postgres::Client,
                         limits: Limits|
               -> Result<BatchExecuteStatementResponse, ApiError> {
            let prepared = engine::prepare_text(request.sql.as_deref())?;
            let mut response = BatchExecuteStatementResponse::default();
            for parameters in &request.parameter_sets {
                engine::execute_batch_item(client, &prepared, parameters, limits, &cancelled).await?;
                response.update_results.push(UpdateResult::default());
            }
            Ok(response)
        };
        if let Some(id) = &request.transaction_id {
            let transaction = self.transaction(id)?;
            let (limits, _) = self.arrive(Operation::BatchExecuteStatement, &transaction.database)?;
            Self::check_target(&request.target)?;
            let connection = busy_guard(&transaction)?;
            let result = run(&connection, limits).await;
            drop(connection);
            self.touch_or_forget(id, &transaction, result.as_ref().err())
                .await;
            return result;
        }
        let database = self.database_of(&request.target);
        let (limits, _) = self.arrive(Operation::BatchExecuteStatement, &database)?;
        Self::check_target(&request.target)?;
        let connection = self.pool(&database, &request.target)?.get().await?;
        let result = async {
            connection.batch_execute("BEGIN").await?;
            match run(&connection, limits).await {
                Ok(response) => {
                    connection.batch_execute("COMMIT").await?;
                    Ok(response)
                }
                Err(error) => {
                    connection.batch_execute("ROLLBACK").await?;
                    Err(error)
                }
            }
        }
        .await;
        retire_if_cancelled(connection, &cancelled);
        result
    }

    /// `ExecuteSql` was Aurora Serverless v1's; Serverless v2 and provisioned clusters refuse it.
    pub fn refuse_execute_sql(&self) -> Result<(), ApiError> {
        self.arrive(Operation::ExecuteSql, "")?;
        Err(ApiError::bad_request(
            "ExecuteSql is not supported for this DB cluster. Use ExecuteStatement instead.",
        ))
    }

    /// `BeginTransaction`: pins a connection and answers its id.
    pub async fn begin_transaction(
        &self,
        request: BeginTransactionRequest,
    ) -> Result<BeginTransactionResponse, ApiError> {
        let database = self.database_of(&request.target);
        self.arrive(Operation::BeginTransaction, &database)?;
        Self::check_target(&request.target)?;
        // The pooled connection stays checked out for the transaction's life; when the
        // transaction ends the pool recycles it (rolling back anything left open).
        let connection = self.pool(&database, &request.target)?.get().await?;
        connection.batch_execute("BEGIN").await?;
        let id = new_transaction_id();
        let transaction = Transaction {
            database,
            connection: tokio::sync::Mutex::new(connection),
            last_used: Mutex::new(Instant::now()),
        };
        lock(&self.inner.transactions).insert(id.clone(), Arc::new(transaction));
        Ok(BeginTransactionResponse { transaction_id: id })
    }

    /// `CommitTransaction` (`commit = true`) or `RollbackTransaction`.
    pub async fn end_transaction(
        &self,
        request: EndTransactionRequest,
        commit: bool,
    ) -> Result<EndTransactionResponse, ApiError> {
        let operation = if commit {
            Operation::CommitTransaction
        } else {
            Operation::RollbackTransaction
        };
        let id = request.transaction_id.clone().unwrap_or_default();
        let Ok(transaction) = self.transaction(&id) else {
            self.arrive(operation, "")?;
            return Err(ApiError::transaction_not_found(&id));
        };
        self.arrive(operation, &transaction.database)?;
        check_arns(request.resource_arn.as_deref(), request.secret_arn.as_deref())?;
        let connection = busy_guard(&transaction)?;
        lock(&self.inner.transactions).remove(&id);
        let outcome = connection
            .batch_execute(if commit { "COMMIT" } else { "ROLLBACK" })
            .await;
        drop(connection);
        outcome?;
        Ok(EndTransactionResponse {
            transaction_status: if commit {
                "Transaction Committed"
            } else {
                "Rollback Complete"
            },
        })
    }

    fn transaction(&self, id: &str) -> Result<Arc<Transaction>, ApiError> {
        lock(&self.inner.transactions)
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::transaction_not_found(id))
    }

    /// After a call on a transaction: it counts as activity, unless the call lost the
    /// transaction (the Data API drops it after an oversized response).
    async fn touch_or_forget(&self, id: &str, transaction: &Transaction, error: Option<&ApiError>) {
        if error.is_some_and(|e| e.message == RESPONSE_TOO_LARGE) {
            if lock(&self.inner.transactions).remove(id).is_some() {
                let connection = transaction.connection.lock().await;
                let _ = connection.batch_execute("ROLLBACK").await;
            }
            return;
        }
        *lock(&transaction.last_used) = Instant::now();
    }

    /// Rolls back and forgets the transactions idle longer than the timeout; returns how many.
    pub async fn expire_idle_transactions(&self) -> usize {
        let timeout = self.inner.config.transaction_idle_timeout;
        let expired: Vec<Arc<Transaction>> = {
            let mut transactions = lock(&self.inner.transactions);
            let ids: Vec<String> = transactions
                .iter()
                .filter(|(_, t)| lock(&t.last_used).elapsed() >= timeout && t.connection.try_lock().is_ok())
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| transactions.remove(id)).collect()
        };
        for transaction in &expired {
            let connection = transaction.connection.lock().await;
            if let Err(error) = connection.batch_execute("ROLLBACK").await {
                tracing::warn!(%error, "rolling back an expired transaction failed");
            }
        }
        expired.len()
    }

    /// Runs [`Self::expire_idle_transactions`] periodically until the service is dropped.
    pub fn spawn_expiry(&self) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        let period = (self.inner.config.transaction_idle_timeout / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(inner) = weak.upgrade() else { return };
                let expired = Service { inner }.expire_idle_transactions().await;
                if expired > 0 {
                    tracing::debug!(expired, "rolled back idle transactions");
                }
            }
        })
    }
}

/// The transaction's connection, unless another call is using it.
fn busy_guard(transaction: &Transaction) -> Result<tokio::sync::MutexGuard<'_, Object>, ApiError> {
    transaction.connection.try_lock().map_err(|_| {
        ApiError::bad_request(
            "The transaction is already running a statement; calls on one transaction must not overlap",
        )
    })
}

fn check_arns(resource_arn: Option<&str>, secret_arn: Option<&str>) -> Result<(), ApiError> {
    if resource_arn.is_none_or(str::is_empty) {
        return Err(ApiError::new(
            ErrorKind::ValidationException,
            "resourceArn is required",
        ));
    }
    if secret_arn.is_none_or(str::is_empty) {
        return Err(ApiError::new(
            ErrorKind::ValidationException,
            "secretArn is required",
        ));
    }
    Ok(())
}

fn new_transaction_id() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
