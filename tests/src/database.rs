//! A fresh database per test, copied from a template, owned by the Aurora-like master
//! ([`crate::aurora`]), dropped when the test ends.
//!
//! Copying a template (`CREATE DATABASE … TEMPLATE`) is a file copy, far cheaper than rebuilding a
//! schema per test. Names carry their creation time (`t_<unix seconds>_<random>`), so databases left
//! behind by a killed test run are swept the next time the harness starts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use tokio::sync::OnceCell;

use crate::postgres::{self, Server};

/// Leftovers older than this are dropped by the sweep.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// A database that exists until this value is dropped.
pub struct TestDatabase {
    pub name: String,
    server: &'static Server,
}

impl TestDatabase {
    /// Creates an empty database.
    ///
    /// # Errors
    /// When no PostgreSQL can be found or the database cannot be created.
    pub async fn create() -> anyhow::Result<Self> {
        Self::from_template("template0").await
    }

    /// Creates a database as a copy of `template` (which nobody may be connected to).
    ///
    /// # Errors
    /// As [`Self::create`].
    pub async fn from_template(template: &str) -> anyhow::Result<Self> {
        let server = postgres::server().await?;
        sweep_once(server).await;
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let name = format!("t_{seconds}_{:016x}", rand::rng().random::<u64>());
        crate::aurora::create_database(server, &name, template).await?;
        Ok(Self { name, server })
    }

    pub fn server(&self) -> &'static Server {
        self.server
    }

    /// A direct connection, for test set-up and inspection only (the code under test uses the
    /// Data API).
    ///
    /// # Errors
    /// When the connection fails.
    pub async fn connect(&self) -> anyhow::Result<tokio_postgres::Client> {
        self.server.connect(&self.name).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop is synchronous and may run inside a runtime: do the async work on a thread of its own.
        let server = self.server;
        let name = std::mem::take(&mut self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(drop_database(server, &name))
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("warning: could not drop a test database: {error:#}");
        }
    }
}

async fn drop_database(server: &Server, name: &str) -> anyhow::Result<()> {
    let admin = server.connect(server.maintenance_database()).await?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    Ok(())
}

static SWEPT: OnceCell<()> = OnceCell::const_new();

async fn sweep_once(server: &'static Server) {
    SWEPT
        .get_or_init(|| async {
            if let Err(error) = sweep(server).await {
                eprintln!("warning: sweeping stale test databases failed: {error:#}");
            }
        })
        .await;
}

async fn sweep(server: &Server) -> anyhow::Result<()> {
    let admin = server.connect(server.maintenance_database()).await?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let rows = admin
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 't\\_%'",
            &[],
        )
        .await?;
    for row in rows {
        let name: String = row.get(0);
        let created = name.split('_').nth(1).and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|c| now.saturating_sub(c) > STALE_AFTER.as_secs()) {
            drop_database(server, &name).await?;
        }
    }
    Ok(())
}
