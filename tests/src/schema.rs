//! Databases with the committed schema: a template built once per migration set by running the
//! real migration engine through an in-process data-api-local, then copied per test.

use std::path::PathBuf;

use anyhow::Context;
use shared::db::Db;
use shared::migrate::{self, Migration};
use tokio::sync::OnceCell;

use crate::data_api::{APP_SECRET_ARN, RESOURCE_ARN, SECRET_ARN, TestDataApi, app_role};
use crate::database::TestDatabase;
use crate::postgres;

/// This checkout's `migrations/` directory.
///
/// # Errors
/// When the checkout cannot be found or has no `migrations/`.
pub fn migrations_dir() -> anyhow::Result<PathBuf> {
    crate::repository::existing("migrations")
}

/// The committed migrations, read from disk (so an edit is seen without a rebuild).
///
/// # Errors
/// When the directory holds an unexpected file or a version lacks its up or down script.
pub fn migrations() -> anyhow::Result<Vec<Migration>> {
    Ok(migrate::from_dir(&migrations_dir()?)?)
}

/// A [`Db`] for the test's database, through its emulator, logged in as the master.
pub fn db(api: &TestDataApi) -> Db {
    Db::new(api.client.clone(), RESOURCE_ARN, SECRET_ARN, &api.database.name)
}

/// A [`Db`] for the test's database logged in as the application role, as the API functions are.
pub fn app_db(api: &TestDataApi) -> Db {
    Db::new(
        api.client.clone(),
        RESOURCE_ARN,
        APP_SECRET_ARN,
        &api.database.name,
    )
}

/// What template.yaml's `SchemaMigration` properties say of a database, for `api`'s: the cluster,
/// the database and the two logins' secrets.
pub fn target_properties(api: &TestDataApi) -> serde_json::Value {
    serde_json::json!({
        "ClusterArn": RESOURCE_ARN,
        "DatabaseName": api.database.name,
        "MasterSecretArn": SECRET_ARN,
        "AppSecretArn": APP_SECRET_ARN,
    })
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The name of a template database holding the committed schema, built on first use. Its name
/// carries a digest of the migrations, so a changed migration gets a new template.
///
/// # Errors
/// When the migrations cannot be read or applied.
pub async fn template() -> anyhow::Result<&'static str> {
    TEMPLATE.get_or_try_init(build_template).await.map(String::as_str)
}

async fn build_template() -> anyhow::Result<String> {
    let migrations = migrations()?;
    let mut contents: String = migrations
        .iter()
        .map(|m| format!("{}{}{}", m.checksum, m.down, m.version))
        .collect();
    contents.push_str(&app_role().keep_statement_without_password());
    let digest = shared::migrate::checksum(&contents);
    let name = format!("budget_template_{}", &digest[..16]);
    let server = postgres::server().await?;
    let admin = server.connect(server.maintenance_database()).await?;
    // Test processes build it once between them: the lock is held until this connection closes.
    admin
        .execute("SELECT pg_advisory_lock(hashtext($1))", &[&name])
        .await?;
    let exists = !admin
        .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_empty();
    if !exists {
        let scratch = TestDataApi::start().await?;
        migrate::up(&db(&scratch), &migrations, None)
            .await
            .context("applying the migrations to the template")?;
        // As the migrate function does after every deploy; the grants are copied with the template.
        migrate::app_role::keep(&db(&scratch), &app_role())
            .await
            .context("keeping the application role in the template")?;
        let source = scratch.database.name.clone();
        drop(scratch.client);
        drop(scratch.emulator);
        // Copy the migrated scratch database into the template (nobody may be connected to it).
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                &[&source],
            )
            .await?;
        crate::aurora::create_database(server, &name, &source).await?;
        drop(scratch.database);
    }
    admin
        .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&name])
        .await?;
    Ok(name)
}

impl TestDataApi {
    /// An emulator over a fresh database holding the committed schema.
    ///
    /// # Errors
    /// As [`TestDataApi::start`], or when the template cannot be built.
    pub async fn with_schema() -> anyhow::Result<Self> {
        let database = TestDatabase::from_template(template().await?).await?;
        Self::start_on(database, |_| {}).await
    }

    /// A [`Db`] for this test's database.
    pub fn db(&self) -> Db {
        db(self)
    }

    /// A [`Db`] for this test's database as the application role (the API functions' login).
    pub fn app_db(&self) -> Db {
        app_db(self)
    }
}
