//! Faults injected at random while the load runs, each as it happens on AWS:
//! - `DatabaseResumingException`: the emulator refuses the next calls, as an auto-paused cluster;
//! - statement timeouts: the next statements run with a timeout of a few milliseconds, so they
//!   are cancelled midway and answer `StatementTimeoutException`;
//! - dropped connections: PostgreSQL backends serving a statement are terminated, as a failover
//!   or an administrator does;
//! - killed instances: a function process dies in the middle of a request ([`super::fleet`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;

use super::fleet::SharedFleet;

#[derive(Default)]
pub struct Injected {
    pub resuming: AtomicU64,
    pub timeouts: AtomicU64,
    pub terminated: AtomicU64,
}

/// Injects one fault every `every` on average until `stop` is set.
pub async fn inject(
    emulator: String,
    postgres: tokio_postgres::Client,
    database: String,
    fleet: SharedFleet,
    every: Duration,
    stop: &AtomicBool,
    injected: &Injected,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let faults = format!("{emulator}/_local/faults");
    let most = u64::try_from(every.as_micros()).unwrap_or(u64::MAX).max(2) * 2;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_micros(rand::random_range(1..most))).await;
        let count = rand::random_range(1..=3_u32);
        match rand::random_range(0..4) {
            0 => {
                let fault = json!({"error": "DatabaseResumingException", "count": count});
                http.post(&faults).json(&fault).send().await?.error_for_status()?;
                injected.resuming.fetch_add(u64::from(count), Ordering::Relaxed);
            }
            1 => {
                let fault = json!({
                    "error": "StatementTimeoutException",
                    "count": count,
                    "timeout_ms": rand::random_range(1..8),
                    "operations": ["ExecuteStatement"],
                });
                http.post(&faults).json(&fault).send().await?.error_for_status()?;
                injected.timeouts.fetch_add(u64::from(count), Ordering::Relaxed);
            }
            2 => {
                // Backends in the middle of a statement of this database, the emulator's.
                let rows = postgres
                    .query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = $1 AND application_name = 'data-api-local' \
                           AND state = 'active' AND pid <> pg_backend_pid() LIMIT 1",
                        &[&database],
                    )
                    .await?;
                let terminated = rows.iter().filter(|row| row.get::<_, bool>(0)).count();
                injected
                    .terminated
                    .fetch_add(terminated as u64, Ordering::Relaxed);
            }
            _ => fleet.kill_soon(u64::from(count)),
        }
    }
    Ok(())
}
