//! `cargo xtask bench`: round trips, latency, cold start, binary size, argon2 and cost, written
//! to `bench/results.md` with the machine they were measured on.
//!
//! What is measured runs as release builds, the way Lambda runs it: the function binaries under a
//! loopback stand-in for the Lambda Runtime API ([`runtime`]), talking to the release
//! data-api-local on the local PostgreSQL. This command only orchestrates. Targets are reported,
//! not asserted: a benchmark informs, the tests decide.

pub(crate) mod functions;
mod history;
mod login_timing;
mod migration;
mod overhead;
mod report;
mod resources;
pub(crate) mod runtime;
mod scheduler;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::json;

#[derive(Args)]
pub struct BenchArgs {
    /// Requests per endpoint (register and login, which hash passwords, use a fifth).
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Cold starts per binary.
    #[arg(long, default_value_t = 20)]
    starts: usize,
    /// Measure the release binaries already in the target directory instead of building them
    /// (to compare binaries built another way, e.g. with another profile).
    #[arg(long)]
    no_build: bool,
    /// Where to write the report.
    #[arg(long, default_value = "bench/results.md")]
    output: PathBuf,
}

/// The binaries whose cold start is measured, with an event each that needs no database.
fn cold_start_events() -> Vec<(&'static str, serde_json::Value)> {
    let mut events: Vec<(&'static str, serde_json::Value)> = ::functions::ENDPOINTS
        .iter()
        .map(|endpoint| {
            let route = endpoint.route;
            // A POST without a JSON content type is refused (415) and GET /me without a token (401),
            // both before any Data API call.
            let headers: &[(&str, &str)] = if route.method == "POST" {
                &[("content-type", "text/plain")]
            } else {
                &[]
            };
            (
                endpoint.name,
                harness::app::event(route.method, route.path, headers, Some("{}")),
            )
        })
        .collect();
    events.push(("migrate", json!({"action": "nothing-to-do"})));
    events.push(("lambda-floor", harness::app::event("GET", "/", &[], None)));
    events
}

/// The release data-api-local, as a child process; stopped when dropped.
pub(crate) struct Emulator {
    child: Child,
    pub endpoint: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn start_emulator(
    target: &Path,
    postgres: &str,
    database: &str,
) -> anyhow::Result<Emulator> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(target.join("data-api-local"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--postgres",
            postgres,
            "--default-database",
            database,
        ])
        // The logins of production: the Aurora-like master, and the application role the API uses.
        .args(harness::data_api::secret_arguments())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the release data-api-local")?;
    let emulator = Emulator {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let health = format!("{}/_local/health", emulator.endpoint);
    for _ in 0..100 {
        if reqwest::get(&health).await.is_ok_and(|r| r.status().is_success()) {
            return Ok(emulator);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("data-api-local did not start")
}

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let target = harness::repository::target_dir()?.join("release");
    if !args.no_build {
        build_binaries()?;
    }

    let server = harness::postgres::server().await?;
    let database = harness::TestDatabase::from_template(harness::schema::template().await?).await?;
    let emulator = start_emulator(&target, &server.base_url(), &database.name).await?;
    let environment = function_environment(&emulator.endpoint, &database.name);

    println!("Endpoints, warm ({} requests each)…", args.samples);
    let setup = functions::Setup {
        target: &target,
        environment: &environment,
        emulator: &emulator.endpoint,
        database: &database.name,
        samples: args.samples,
    };
    let (mut endpoints, session) = functions::auth_endpoints(&setup).await?;
    endpoints.extend(resources::endpoints(&setup, &session).await?);
    // Every endpoint of the registry is measured against its budget, none left out.
    let unmeasured: Vec<&str> = ::functions::ENDPOINTS
        .iter()
        .map(|registered| registered.name)
        .filter(|name| !endpoints.iter().any(|e| e.binary == *name))
        .collect();
    anyhow::ensure!(
        unmeasured.is_empty(),
        "the bench measures no request of {unmeasured:?}"
    );
    // Measured in the order their setup needs; reported in the order of functions::registry.
    endpoints.sort_by_key(|e| {
        ::functions::ENDPOINTS
            .iter()
            .position(|registered| registered.name == e.binary)
    });

    println!("Login timing, known and unknown emails…");
    let login_timing = login_timing::measure(&setup, functions::BENCH_USER, 200).await?;

    let direct = database.connect().await?;
    println!("GET /months over long histories…");
    let history = history::months(&setup, &direct).await?;

    println!("The scheduler at {:?} households…", scheduler::HOUSEHOLDS);
    let scheduler = scheduler::measure(&emulator.endpoint).await?;

    println!("Cold starts ({} per binary)…", args.starts);
    let mut starts = Vec::new();
    for (binary, event) in cold_start_events() {
        starts.push(
            functions::cold_start(binary, &target.join(binary), &environment, &event, args.starts).await?,
        );
    }

    println!("The newest migration on a database with data…");
    let migration = {
        let scratch = harness::TestDatabase::from_template(harness::schema::template().await?).await?;
        let master = shared::db::Db::new(
            harness::data_api::client(&emulator.endpoint),
            harness::data_api::RESOURCE_ARN,
            harness::data_api::SECRET_ARN,
            &scratch.name,
        );
        migration::newest(&master, &scratch.connect().await?).await?
    };

    println!("argon2id and emulator overhead…");
    let argon2 = overhead::argon2_rust(20);
    let reference = overhead::argon2_reference(20);
    let emulator_overhead = overhead::emulator(&emulator.endpoint, &database.name, &direct, 500).await?;
    drop(emulator);

    let report = report::Report {
        endpoints,
        starts,
        argon2,
        argon2_reference: reference,
        emulator: emulator_overhead,
        history,
        scheduler,
        migration,
        login_timing,
        elapsed: started.elapsed(),
    };
    let markdown = report.markdown(&machine());
    if let Some(parent) = args.output.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.output, &markdown).with_context(|| format!("writing {}", args.output.display()))?;
    println!(
        "\n{markdown}\nWrote {} in {:.0} s.",
        args.output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn build_binaries() -> anyhow::Result<()> {
    println!("Building the release binaries…");
    let started = Instant::now();
    let status = Command::new("cargo")
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "functions",
            "--bins",
            "-p",
            "lambda-floor",
            "-p",
            "data-api-local",
        ])
        .status()?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    println!("  built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// What the functions are configured with, as `cargo xtask dev` configures them.
pub(crate) fn function_environment(data_api: &str, database: &str) -> Vec<(&'static str, String)> {
    let mut environment = vec![
        ("AWS_ENDPOINT_URL_RDS_DATA", data_api.to_owned()),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        (
            "DB_CLUSTER_ARN",
            "arn:aws:rds:us-east-1:000000000000:cluster:bench".to_owned(),
        ),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", data_api.to_owned()),
        ("DB_SECRET_ARN", harness::data_api::APP_SECRET_ARN.to_owned()),
        ("DB_MASTER_SECRET_ARN", harness::data_api::SECRET_ARN.to_owned()),
        ("APP_DB_SECRET_ARN", harness::data_api::APP_SECRET_ARN.to_owned()),
        ("DB_NAME", database.to_owned()),
    ];
    environment.extend(
        ::functions::app::token_environment(
            harness::data_api::TOKEN_SECRET_ARN,
            harness::data_api::TOKEN_SIGNING_KEY,
        )
        .expect("a constant key of 32+ bytes"),
    );
    environment
}

/// A description of this machine for the report.
pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let kib: u64 = text.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        })
        .unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {memory} RAM, {} {}, {rustc}; measured {date}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

pub(crate) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
