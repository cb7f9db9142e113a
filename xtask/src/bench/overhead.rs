//! Two reference points: the emulator's overhead over a direct PostgreSQL connection, and argon2id
//! here against the reference C implementation (Debian's `argon2` command) at the same parameters.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shared::auth::{ARGON2_M_COST_KIB, ARGON2_P_COST, ARGON2_T_COST, Password, hash_password};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Median round trip of the same query through the release data-api-local (HTTP, JSON, typed
/// binding) and over a direct PostgreSQL connection.
pub struct Overhead {
    pub data_api: Duration,
    pub direct: Duration,
}

/// Posts the Data API's own `ExecuteStatement` body to `emulator` (no SDK, so the client's cost is
/// not counted), and runs the same statement on `direct`.
pub async fn emulator(
    emulator: &str,
    database: &str,
    direct: &tokio_postgres::Client,
    samples: usize,
) -> anyhow::Result<Overhead> {
    // Text-typed on both paths, so both bind and run the very same statement.
    const SQL: &str = "SELECT id, name FROM households WHERE name = $1";
    let statement = direct.prepare(SQL).await?;
    let body = serde_json::json!({
        "resourceArn": "arn:aws:rds:us-east-1:000000000000:cluster:bench",
        "secretArn": harness::data_api::APP_SECRET_ARN,
        "database": database,
        "sql": SQL.replace("$1", ":name"),
        "parameters": [{"name": "name", "value": {"stringValue": "Bench"}}],
    });
    let http = reqwest::Client::new();
    let url = format!("{emulator}/Execute");
    let mut through_emulator = Vec::with_capacity(samples);
    let mut over_direct = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let response = http.post(&url).json(&body).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "data-api-local answered {}",
            response.status()
        );
        response.bytes().await?;
        through_emulator.push(started.elapsed());
        let started = Instant::now();
        direct.query(&statement, &[&"Bench"]).await?;
        over_direct.push(started.elapsed());
    }
    Ok(Overhead {
        data_api: median(through_emulator),
        direct: median(over_direct),
    })
}

/// Median time of one argon2id hash at the configured parameters, in this process.
pub fn argon2_rust(samples: usize) -> Duration {
    let password = Password::parse("correct horse battery staple").unwrap_or_else(|_| unreachable!());
    median(
        (0..samples)
            .map(|_| {
                let started = Instant::now();
                let _ = hash_password(&password);
                started.elapsed()
            })
            .collect(),
    )
}

/// Median time of one hash by the reference implementation's command, minus the median time of
/// starting that command with the cheapest parameters (so process start-up is not counted).
pub fn argon2_reference(samples: usize) -> Option<Duration> {
    if Command::new("argon2")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        let installed = Command::new("apt-get")
            .args(["install", "-y", "-qq", "argon2"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            return None;
        }
    }
    let run = |t: u32, k: u32| -> Option<Duration> {
        let mut child = Command::new("argon2")
            .args([
                "somesaltvalue",
                "-id",
                "-t",
                &t.to_string(),
                "-k",
                &k.to_string(),
                "-p",
                &ARGON2_P_COST.to_string(),
            ])
            .arg("-r")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let started = Instant::now();
        use std::io::Write;
        child
            .stdin
            .take()?
            .write_all(b"correct horse battery staple")
            .ok()?;
        let status = child.wait().ok()?;
        status.success().then(|| started.elapsed())
    };
    let full: Option<Vec<Duration>> = (0..samples)
        .map(|_| run(ARGON2_T_COST, ARGON2_M_COST_KIB))
        .collect();
    let empty: Option<Vec<Duration>> = (0..samples).map(|_| run(1, 8)).collect();
    Some(median(full?).saturating_sub(median(empty?)))
}
