//! `cargo xtask dev`: the whole API on a laptop with one command.
//!
//! 1. PostgreSQL as the test harness finds it (template.yaml's major: `DATABASE_URL`,
//!    127.0.0.1:5432, or an ephemeral cluster under `target/`), with a `budget` database owned by
//!    the Aurora-like master;
//! 2. data-api-local on 127.0.0.1:8080, with the master's and the application role's secrets;
//! 3. `cargo lambda watch` on 127.0.0.1:9000 with the functions' environment and the router config,
//!    so API paths work as behind API Gateway;
//! 4. the migrate function invoked through cargo lambda, as a deploy would;
//! 5. the scheduler invoked through cargo lambda every `--scheduler-every` seconds (30 by default)
//!    with the scheduled event an EventBridge rule sends (`events/scheduled-event.json`, its time
//!    now), as the template's rule does every few minutes;
//! 6. the URLs and a curl example; Ctrl-C stops everything this started and nothing else.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
// The logins and secrets of the tests' emulator, as on AWS: the Aurora-like master (the migrate
// function's), the application role (the API functions'), and the token signing secret (the
// issuers' and auth-keys'). Local only; deployed stacks generate theirs in Secrets Manager.
use harness::data_api::{
    APP_SECRET_ARN, RESOURCE_ARN, SECRET_ARN as MASTER_SECRET_ARN, TOKEN_SECRET_ARN, TOKEN_SIGNING_KEY,
};

#[derive(Args)]
pub struct DevArgs {
    /// Port of the API (cargo lambda watch).
    #[arg(long, default_value_t = 9000)]
    api_port: u16,
    /// Port of data-api-local.
    #[arg(long, default_value_t = 8080)]
    data_api_port: u16,
    /// The PostgreSQL database the API uses (created if missing).
    #[arg(long, default_value = "budget")]
    database: String,
    /// Seconds between scheduler runs (0: never).
    #[arg(long, default_value_t = 30)]
    scheduler_every: u64,
}

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    ensure_cargo_lambda()?;

    let server = harness::postgres::server().await?;
    ensure_database(server, &args.database).await?;
    println!("PostgreSQL      {}", server.url(&args.database));

    let mut config = data_api_local::Config::new(server.base_url());
    config.default_database.clone_from(&args.database);
    config.secrets = harness::data_api::secrets();
    config.secret_strings = harness::data_api::secret_strings();
    let emulator = data_api_local::spawn(config, ([127, 0, 0, 1], args.data_api_port).into())
        .await
        .with_context(|| {
            format!(
                "starting data-api-local on 127.0.0.1:{} (is the port taken?)",
                args.data_api_port
            )
        })?;
    println!(
        "Data API        {}  (call counts: {}/_local/stats)",
        emulator.endpoint(),
        emulator.endpoint()
    );

    let mut watch = Watch::start(&args, &emulator.endpoint())?;
    let outcome = async {
        wait_for_port(args.api_port, &mut watch.child, Duration::from_secs(600)).await?;
        migrate(args.api_port)?;
        print_ready(args.api_port, args.scheduler_every);
        wait_for_stop(&mut watch.child, args.api_port, args.scheduler_every).await
    }
    .await;
    watch.stop();
    drop(emulator);
    println!("Stopped.");
    outcome
}

/// The dev database, created owned by the Aurora-like master as RDS creates a cluster's database.
/// One made before the master existed (owned by the superuser) cannot be migrated by it: say so.
async fn ensure_database(server: &harness::postgres::Server, name: &str) -> anyhow::Result<()> {
    let admin = server.connect(server.maintenance_database()).await?;
    let owner = admin
        .query(
            "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await?;
    match owner.first().map(|row| row.get::<_, String>(0)) {
        None => harness::aurora::create_database(server, name, "template0").await,
        Some(owner) if owner == harness::aurora::MASTER_ROLE => Ok(()),
        Some(owner) => bail!(
            "the database {name} is owned by {owner}, not by the Aurora-like master {}: drop it \
             (DROP DATABASE {name}) and run again, or pass --database <another name>",
            harness::aurora::MASTER_ROLE
        ),
    }
}

/// `cargo lambda`, installed from PyPI (a prebuilt wheel) or else built with cargo.
fn ensure_cargo_lambda() -> anyhow::Result<()> {
    let installed = || {
        Command::new("cargo")
            .args(["lambda", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if installed() {
        return Ok(());
    }
    println!("cargo-lambda is missing; installing it with pip…");
    for pip in [&["python3", "-m", "pip"][..], &["pip3"][..], &["pip"][..]] {
        let status = Command::new(pip[0])
            .args(&pip[1..])
            .args(["install", "--quiet", "cargo-lambda"])
            .status();
        if status.is_ok_and(|s| s.success()) && installed() {
            return Ok(());
        }
    }
    println!("pip could not install it; trying cargo install cargo-lambda (this takes a while)…");
    let status = Command::new("cargo")
        .args(["install", "--locked", "cargo-lambda"])
        .status();
    if status.is_ok_and(|s| s.success()) && installed() {
        return Ok(());
    }
    bail!(
        "cargo-lambda is required and could not be installed. Install it yourself: \
         `pip install cargo-lambda`, `brew install cargo-lambda/tap/cargo-lambda`, or `cargo install cargo-lambda`"
    )
}

/// The `cargo lambda watch` child, in its own process group so that stopping it stops the cargo
/// and function processes it started, and nothing else.
struct Watch {
    child: Child,
}

impl Watch {
    fn start(args: &DevArgs, data_api: &str) -> anyhow::Result<Self> {
        use std::os::unix::process::CommandExt;
        let child = Command::new("cargo")
            .args([
                "lambda",
                "watch",
                "-p",
                "functions",
                "--invoke-address",
                "127.0.0.1",
            ])
            .args(["--invoke-port", &args.api_port.to_string()])
            .env("AWS_ENDPOINT_URL_RDS_DATA", data_api)
            .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", data_api)
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .env("AWS_REGION", "us-east-1")
            .env("DB_CLUSTER_ARN", RESOURCE_ARN)
            // As on AWS: the API functions log in as the application role, the migrate
            // function as the master, and it keeps the role.
            .env("DB_SECRET_ARN", APP_SECRET_ARN)
            .env("DB_MASTER_SECRET_ARN", MASTER_SECRET_ARN)
            .env("APP_DB_SECRET_ARN", APP_SECRET_ARN)
            .env("DB_NAME", &args.database)
            .envs(functions::app::token_environment(
                TOKEN_SECRET_ARN,
                TOKEN_SIGNING_KEY,
            )?)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .context("starting cargo lambda watch")?;
        Ok(Self { child })
    }

    fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let group = format!("-{}", self.child.id());
            let signal = |name: &str| {
                Command::new("kill")
                    .args([name, "--", &group])
                    .stderr(Stdio::null())
                    .status()
            };
            let _ = signal("-TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = signal("-KILL");
            let _ = self.child.wait();
        }
    }
}

async fn wait_for_port(port: u16, child: &mut Child, limit: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("cargo lambda watch exited ({status}) before serving on port {port}");
        }
        if started.elapsed() > limit {
            bail!(
                "cargo lambda watch did not listen on port {port} within {} s",
                limit.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

/// Runs `{"action":"up"}` through cargo lambda, as CloudFormation would on a deploy.
fn migrate(api_port: u16) -> anyhow::Result<()> {
    println!("Migrating       cargo lambda invoke migrate --data-ascii '{{\"action\":\"up\"}}'");
    let output = Command::new("cargo")
        .args(["lambda", "invoke", "migrate", "--invoke-address", "127.0.0.1"])
        .args([
            "--invoke-port",
            &api_port.to_string(),
            "--data-ascii",
            r#"{"action":"up"}"#,
        ])
        .output()
        .context("running cargo lambda invoke migrate")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "the migration failed:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    println!("                {}", stdout.trim());
    Ok(())
}

fn print_ready(port: u16, scheduler_every: u64) {
    let api = format!("http://127.0.0.1:{port}");
    println!(
        "\nReady: the API is at {api}\n\n  curl -s -X POST {api}/auth/register -H 'content-type: application/json' \\\n    \
         -d '{{\"email\":\"ada@example.com\",\"password\":\"correct horse battery\",\"display_name\":\"Ada\"}}'\n\n\
         The scheduler runs every {scheduler_every} s (0: never). Code changes rebuild the functions. \
         Ctrl-C stops everything.\n"
    );
}

/// One scheduler run through cargo lambda, with the rule's event at the time now; prints what it
/// made, or why it failed (the next run tries again, as Lambda's retries would).
fn run_scheduler(api_port: u16) {
    let event = match harness::events::scheduled_event(chrono::Utc::now()) {
        Ok(event) => event,
        Err(error) => return eprintln!("Scheduler       no event to send: {error:#}"),
    };
    let output = Command::new("cargo")
        .args(["lambda", "invoke", "scheduler", "--invoke-address", "127.0.0.1"])
        .args([
            "--invoke-port",
            &api_port.to_string(),
            "--data-ascii",
            &event.to_string(),
        ])
        .output();
    match output {
        Ok(output) if output.status.success() => {
            println!(
                "Scheduler       {}",
                String::from_utf8_lossy(&output.stdout).trim()
            );
        }
        Ok(output) => eprintln!(
            "Scheduler       failed: {}{}",
            String::from_utf8_lossy(&output.stdout).trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(error) => eprintln!("Scheduler       could not run cargo lambda invoke: {error}"),
    }
}

/// Until Ctrl-C, SIGTERM, or the watch process ending on its own; runs the scheduler meanwhile.
async fn wait_for_stop(child: &mut Child, api_port: u16, scheduler_every: u64) -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // The event file must be there before the first run is due.
    harness::events::scheduled_event(chrono::Utc::now())?;
    let period = Duration::from_secs(scheduler_every.max(1));
    let mut clock = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
            _ = clock.tick(), if scheduler_every > 0 => {
                tokio::task::spawn_blocking(move || run_scheduler(api_port)).await?;
            }
            () = tokio::time::sleep(Duration::from_millis(500)) => {
                if let Some(status) = child.try_wait()? {
                    bail!("cargo lambda watch exited: {status}");
                }
            }
        }
    }
}
