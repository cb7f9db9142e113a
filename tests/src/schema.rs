//! Databases with the committed schema: a template built once per migration set by running the
//! real migration engine through an in-process data-api-local, then copied per test.

use std::path::PathBuf;

use anyhow::Context;
use shared::db::Db;
use shared::migrate::{self, Migration};
use tokio::sync::OnceCell;

use crate::data_api::{RESOURCE_ARN, SECRET_ARN, TestDataApi};
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

/// A [`Db`] for the test's database, through its emulator, as the functions build one.
pub fn db(api: &TestDataApi) -> Db {
    Db::new(api.client.clone(), RESOURCE_ARN, SECRET_ARN, &api.database.name)
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
    let digest = shared::migrate::checksum(
        &migrations
            .iter()
            .map(|m| format!("{}{}{}", m.checksum, m.down, m.version))
            .collect::<String>(),
    );
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
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{source}\""))
            .await
            .with_context(|| format!("creating template {name}"))?;
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
}
