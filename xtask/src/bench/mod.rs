//! `cargo xtask bench`: round trips, latency, cold start, binary size, argon2 and cost, written
//! to `bench/results.md` with the machine they were measured on.
//!
//! The command re-runs itself as a release build, so the handlers, data-api-local and the
//! measurements are optimised as in production, and shares one release build with the Lambda
//! binaries it starts for the cold-start runs. Targets are reported, not asserted: a benchmark
//! informs, the tests decide.

mod coldstart;
mod endpoints;
mod overhead;
mod report;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
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
    /// Where to write the report.
    #[arg(long, default_value = "bench/results.md")]
    output: PathBuf,
}

/// The binaries whose cold start is measured, with an event each that needs no database.
fn cold_start_events() -> Vec<(&'static str, serde_json::Value)> {
    let mut events: Vec<(&'static str, serde_json::Value)> = functions::ENDPOINTS
        .iter()
        .map(|(binary, route)| {
            // A POST without a JSON content type is refused (415) and GET /me without a token (401),
            // both before any Data API call.
            let headers: &[(&str, &str)] = if route.method == "POST" {
                &[("content-type", "text/plain")]
            } else {
                &[]
            };
            (
                *binary,
                harness::app::event(route.method, route.path, headers, Some("{}")),
            )
        })
        .collect();
    events.push(("migrate", json!({"action": "nothing-to-do"})));
    events.push(("lambda-floor", harness::app::event("GET", "/", &[], None)));
    events
}

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if cfg!(debug_assertions) {
        println!("Re-running as a release build…");
        let status = Command::new("cargo")
            .args(["run", "--release", "--quiet", "-p", "xtask", "--", "bench"])
            .args([
                "--samples",
                &args.samples.to_string(),
                "--starts",
                &args.starts.to_string(),
            ])
            .arg("--output")
            .arg(&args.output)
            .status()
            .context("running the release build")?;
        return Ok(if status.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let started = Instant::now();
    let target = harness::postgres::target_dir().join("release");
    build_binaries()?;

    println!(
        "Endpoints: Data API calls and latency ({} requests each)…",
        args.samples
    );
    let endpoints = endpoints::run(args.samples).await?;

    println!("Cold starts ({} per binary)…", args.starts);
    let runtime = coldstart::RuntimeApi::start().await?;
    let environment = function_environment();
    let mut starts = Vec::new();
    for (binary, event) in cold_start_events() {
        let path = target.join(binary);
        let mut samples = Vec::with_capacity(args.starts);
        for _ in 0..args.starts {
            samples.push(runtime.measure(&path, &environment, &event.to_string()).await?);
        }
        starts.push(report::ColdStart::from_samples(
            binary,
            &samples,
            file_size(&path)?,
        ));
    }

    println!("argon2id and emulator overhead…");
    let argon2 = overhead::argon2_rust(20);
    let reference = overhead::argon2_reference(20);
    let emulator = overhead::emulator(500).await?;

    let report = report::Report {
        endpoints,
        starts,
        argon2,
        argon2_reference: reference,
        emulator,
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

fn build_binaries() -> anyhow::Result<()> {
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
        ])
        .status()?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    println!("  built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// What the functions need to initialise; no call reaches these endpoints during a cold start.
fn function_environment() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL_RDS_DATA", "http://127.0.0.1:9".to_owned()),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        (
            "DB_CLUSTER_ARN",
            "arn:aws:rds:us-east-1:000000000000:cluster:bench".to_owned(),
        ),
        (
            "DB_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:bench".to_owned(),
        ),
        ("DB_NAME", "bench".to_owned()),
        (
            "AUTH_TOKEN_SECRET",
            "bench-only-signing-secret-0123456789abcdef".to_owned(),
        ),
    ]
}

fn file_size(path: &Path) -> anyhow::Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("{} is not built", path.display()))?
        .len())
}

/// A description of this machine for the report.
fn machine() -> String {
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

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
