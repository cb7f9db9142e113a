//! An in-process data-api-local on an ephemeral port, over a fresh database, with the real
//! `aws-sdk-rdsdata` client pointed at it.

use aws_credential_types::Credentials;
use aws_sdk_rdsdata::Client;
use aws_sdk_rdsdata::config::{BehaviorVersion, Region};
use aws_sdk_rdsdata::operation::batch_execute_statement::builders::BatchExecuteStatementFluentBuilder;
use aws_sdk_rdsdata::operation::begin_transaction::builders::BeginTransactionFluentBuilder;
use aws_sdk_rdsdata::operation::commit_transaction::builders::CommitTransactionFluentBuilder;
use aws_sdk_rdsdata::operation::execute_statement::builders::ExecuteStatementFluentBuilder;
use aws_sdk_rdsdata::operation::rollback_transaction::builders::RollbackTransactionFluentBuilder;
use data_api_local::{Config, Counters, Running};

use crate::database::TestDatabase;
use crate::postgres;

/// Any cluster ARN is accepted locally; these look like real ones so logs read naturally.
pub const RESOURCE_ARN: &str = "arn:aws:rds:us-east-1:000000000000:cluster:local";
/// The master login's secret (the migrate function's, and the tests' own for setup and checks):
/// the Aurora-like master of [`crate::aurora`], not a superuser.
pub const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:000000000000:secret:local";
/// The API functions' login: the application role, which may read and write rows, nothing more.
pub const APP_SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:000000000000:secret:local-app";
/// The application role of every test database (roles are shared by the whole server).
pub const APP_ROLE: &str = "budget_app";
pub const APP_ROLE_PASSWORD: &str = "local-test-app-role-password";

/// The access-token signing secret, as the template's `AuthTokenSecret` holds it; the issuers
/// read it through data-api-local's `GetSecretValue` as they read Secrets Manager on AWS.
pub const TOKEN_SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:000000000000:secret:local-auth-tokens";
/// Its current key (local only).
pub const TOKEN_SIGNING_KEY: &str = "local-only-access-token-signing-key-0123456789";

/// The signing secret's text: `{"current", "previous", "next"}`.
pub fn token_secret_string() -> String {
    serde_json::json!({"current": TOKEN_SIGNING_KEY, "previous": "none", "next": "none"}).to_string()
}

/// The emulator's secrets that are not database logins.
pub fn secret_strings() -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([(TOKEN_SECRET_ARN.to_owned(), token_secret_string())])
}

/// The application role as its secret describes it.
pub fn app_role() -> shared::migrate::AppRole {
    shared::migrate::AppRole::new(APP_ROLE, APP_ROLE_PASSWORD).expect("a valid constant role")
}

/// The emulator's secrets, as on AWS: the master's and the application role's.
pub fn secrets() -> std::collections::BTreeMap<String, Option<data_api_local::Credentials>> {
    std::collections::BTreeMap::from([
        (
            SECRET_ARN.to_owned(),
            Some(data_api_local::Credentials {
                username: crate::aurora::MASTER_ROLE.to_owned(),
                password: crate::aurora::MASTER_PASSWORD.to_owned(),
            }),
        ),
        (
            APP_SECRET_ARN.to_owned(),
            Some(data_api_local::Credentials {
                username: APP_ROLE.to_owned(),
                password: APP_ROLE_PASSWORD.to_owned(),
            }),
        ),
    ])
}

/// [`secrets`] and [`secret_strings`] as data-api-local's command line takes them.
pub fn secret_arguments() -> Vec<String> {
    secrets()
        .into_iter()
        .flat_map(|(arn, login)| {
            let value = match login {
                Some(login) => format!("{arn}={}:{}", login.username, login.password),
                None => arn,
            };
            ["--secret".to_owned(), value]
        })
        .chain(
            secret_strings()
                .into_iter()
                .flat_map(|(arn, text)| ["--secret-string".to_owned(), format!("{arn}={text}")]),
        )
        .collect()
}

/// A Secrets Manager client for `endpoint` (data-api-local serves `GetSecretValue`).
pub fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(shared::db::https_client())
        .credentials_provider(Credentials::new("local", "local", None, None, "data-api-local"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// A Data API client for `endpoint`, as production builds it but with static credentials and no
/// SDK retries, so that one SDK call is exactly one counted round trip.
pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_rdsdata::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(shared::db::https_client())
        .credentials_provider(Credentials::new("local", "local", None, None, "data-api-local"))
        .retry_config(aws_sdk_rdsdata::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// A test's own database, emulator and client. Fields drop in order: client, emulator, database.
pub struct TestDataApi {
    pub client: Client,
    pub emulator: Running,
    pub database: TestDatabase,
}

impl TestDataApi {
    /// Starts an emulator with the Data API's own limits over a fresh, empty database.
    ///
    /// # Errors
    /// When PostgreSQL cannot be found or the emulator cannot start.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// As [`Self::start`], with the emulator's configuration adjusted first (e.g. a short
    /// transaction timeout).
    ///
    /// # Errors
    /// As [`Self::start`].
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        Self::start_on(TestDatabase::create().await?, adjust).await
    }

    /// As [`Self::start_with`], over a database the caller made (e.g. from a schema template).
    ///
    /// # Errors
    /// As [`Self::start`].
    pub async fn start_on(database: TestDatabase, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        let server = postgres::server().await?;
        let mut config = Config::new(server.base_url());
        config.default_database = database.name.clone();
        config.secrets = secrets();
        config.secret_strings = secret_strings();
        adjust(&mut config);
        let emulator = data_api_local::spawn(config, ([127, 0, 0, 1], 0).into()).await?;
        Ok(Self {
            client: client(&emulator.endpoint()),
            emulator,
            database,
        })
    }

    pub fn endpoint(&self) -> String {
        self.emulator.endpoint()
    }

    /// `ExecuteStatement` on this test's database, ARNs filled in.
    pub fn execute(&self, sql: &str) -> ExecuteStatementFluentBuilder {
        self.client
            .execute_statement()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .database(&self.database.name)
            .sql(sql)
    }

    pub fn batch(&self, sql: &str) -> BatchExecuteStatementFluentBuilder {
        self.client
            .batch_execute_statement()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .database(&self.database.name)
            .sql(sql)
    }

    pub fn begin(&self) -> BeginTransactionFluentBuilder {
        self.client
            .begin_transaction()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .database(&self.database.name)
    }

    pub fn commit(&self, transaction_id: &str) -> CommitTransactionFluentBuilder {
        self.client
            .commit_transaction()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .transaction_id(transaction_id)
    }

    pub fn rollback(&self, transaction_id: &str) -> RollbackTransactionFluentBuilder {
        self.client
            .rollback_transaction()
            .resource_arn(RESOURCE_ARN)
            .secret_arn(SECRET_ARN)
            .transaction_id(transaction_id)
    }

    /// The calls this test's database has received.
    pub fn calls(&self) -> Counters {
        self.emulator.service.stats().database(&self.database.name)
    }
}
