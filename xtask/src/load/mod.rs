//! `cargo xtask load`: households of several members on several phones use the API at once while
//! faults are injected, then the books are checked straight from PostgreSQL.
//!
//! What runs is what runs on AWS, but for the parts AWS provides: API Gateway HTTP API (v2) events
//! (built as API Gateway builds them) go to the release function binaries, each endpoint with
//! several instances under a loopback Lambda Runtime API ([`fleet`]); the functions call the
//! release data-api-local with the real SDK client, and it runs their statements on PostgreSQL
//! under the application role. Faults ([`faults`]) are injected as AWS would produce them. After
//! the load stops, every invariant is checked ([`ledger`], [`books`], [`months`], [`sync_copy`])
//! and any violation fails the command.

mod books;
mod churn;
mod client;
mod faults;
mod fleet;
mod household;
mod ledger;
mod months;
mod report;
mod schedules;
mod stats;
mod sync_copy;
mod tenancy;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use futures_util::future::join_all;

use crate::bench;
use client::{Call, Client};
use household::expect;
use ledger::Findings;

#[derive(Args)]
pub struct LoadArgs {
    /// How long the phones keep sending requests.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// At most this many requests in all (retries not counted).
    #[arg(long, default_value_t = 100_000)]
    requests: u64,
    #[arg(long, default_value_t = 4)]
    households: usize,
    /// Members per household, each on their own phone.
    #[arg(long, default_value_t = 3)]
    members: usize,
    /// Instances each endpoint may run at once (its reserved concurrency).
    #[arg(long, default_value_t = 3)]
    instances: usize,
    /// One fault every this many milliseconds on average; 0 injects none.
    #[arg(long, default_value_t = 150)]
    fault_every_ms: u64,
    /// Use the release binaries already in the target directory.
    #[arg(long)]
    no_build: bool,
    /// Where to write the report.
    #[arg(long, default_value = "bench/load.md")]
    output: PathBuf,
}

/// Takes one from `counter` (requests left, kills due); false when it is at zero.
fn take_one(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1))
        .is_ok()
}

pub async fn run(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let target = harness::repository::target_dir()?.join("release");
    if !args.no_build {
        bench::build_binaries()?;
    }
    let server = harness::postgres::server().await?;
    let database = harness::TestDatabase::from_template(harness::schema::template().await?).await?;
    let emulator = bench::start_emulator(&target, &server.base_url(), &database.name).await?;
    let direct = database.connect().await?;

    let stats = Arc::new(stats::Stats::default());
    let sink_stats = stats.clone();
    let mut binaries: Vec<&'static str> = functions::ENDPOINTS.iter().map(|e| e.name).collect();
    binaries.push("scheduler");
    let fleet = Arc::new(fleet::Fleet::new(
        &target,
        &binaries,
        args.instances,
        bench::function_environment(&emulator.endpoint, &database.name),
        Arc::new(move |line: &str| sink_stats.log_line(line)),
    ));
    let client = Client {
        fleet: fleet.clone(),
        stats: stats.clone(),
    };

    let months: Vec<String> = direct
        .query(
            "SELECT to_char(date_trunc('month', now()) - make_interval(months => n), 'YYYY-MM') \
             FROM generate_series(0, 2) AS n ORDER BY 1",
            &[],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let run_id = format!("{:08x}", rand::random::<u32>());
    println!(
        "Setting up {} households of {} members…",
        args.households, args.members
    );
    let households =
        join_all((0..args.households).map(|h| household::set_up(&client, &run_id, h, args.members, &months)))
            .await
            .into_iter()
            .map(|h| h.map(Arc::new))
            .collect::<anyhow::Result<Vec<_>>>()?;
    for (index, household) in households.iter().enumerate() {
        schedules::set_up(&client, &run_id, index, household).await?;
    }
    let clock = schedules::Clock {
        start: chrono::Utc::now(),
    };

    println!(
        "Load: {} phones for {} s, a fault every {} ms on average…",
        args.households * args.members,
        args.seconds,
        args.fault_every_ms
    );
    let started = Instant::now();
    let shared = workload::Shared {
        client: client.clone(),
        ledger: ledger::Ledger::default(),
        run: run_id,
        until: started + Duration::from_secs(args.seconds),
        budget: AtomicU64::new(args.requests),
        replays: AtomicU64::new(0),
        replay_mismatches: std::sync::Mutex::default(),
        cross_member_tries: AtomicU64::new(0),
        cross_member_leaks: std::sync::Mutex::default(),
        households: households.clone(),
        leaks: std::sync::Mutex::default(),
        foreign_tries: AtomicU64::new(0),
        removals: AtomicU64::new(0),
        removal_findings: std::sync::Mutex::default(),
        sign_ins_lost: AtomicU64::new(0),
    };
    let stop = AtomicBool::new(false);
    let injected = faults::Injected::default();
    let phones = households
        .iter()
        .flat_map(|h| (0..h.members.len()).map(|m| workload::Phone::new(h.clone(), m)))
        .map(|phone| phone.run(&shared));
    let load = async {
        let phones = join_all(phones).await;
        stop.store(true, Ordering::Relaxed);
        phones.into_iter().collect::<anyhow::Result<Vec<_>>>()
    };
    let injector = async {
        if args.fault_every_ms == 0 {
            return Ok(());
        }
        let injector_db = database.connect().await?;
        faults::inject(
            emulator.endpoint.clone(),
            injector_db,
            database.name.clone(),
            fleet.clone(),
            Duration::from_millis(args.fault_every_ms),
            &stop,
            &injected,
        )
        .await
    };
    let scheduling = schedules::run_during(&fleet, &clock, &stop);
    let (phones, injector, scheduled) = tokio::join!(load, injector, scheduling);
    let scheduled = scheduled.context("running the scheduler")?;
    let elapsed = started.elapsed();
    injector.context("injecting faults")?;
    let mut phones = phones?;
    fleet.calm();
    reqwest::Client::new()
        .delete(format!("{}/_local/faults", emulator.endpoint))
        .send()
        .await?
        .error_for_status()?;
    let emulator_stats: data_api_local::Stats = reqwest::get(format!("{}/_local/stats", emulator.endpoint))
        .await?
        .json()
        .await?;

    println!("Checking the books…");
    let mut findings = Findings::default();
    schedules::check(&fleet, &direct, clock.at(scheduled.0), &mut findings).await?;
    shared.ledger.check(&direct, &mut findings).await?;
    books::check(&direct, &mut findings).await?;
    for household in &households {
        // The owner's phone may end the run signed out (a raced refresh revokes its session family,
        // and signing in again can be lost to faults): the books are read after a fresh sign-in.
        let owner = &household.members[0];
        if !owner.login(&client).await? {
            anyhow::bail!("the owner could not sign in after the faults stopped");
        }
        let token = owner.access();
        let accounts = Call::new("GET", "/accounts")
            .token(&token)
            .query("include_closed", "true");
        let accounts = expect(client.send(&accounts).await?, 200, "GET /accounts")?;
        let accounts = accounts["accounts"].as_array().cloned().unwrap_or_default();
        books::balances(&direct, &accounts, &mut findings).await?;
        let rows = months::Rows::read(&direct, &household.id).await?;
        for month in &household.months {
            let call = Call::new("GET", format!("/months/{month}")).token(&token);
            let answer = expect(client.send(&call).await?, 200, "GET /months/{month}")?;
            rows.compare(month, &answer, &mut findings);
        }
    }
    let mut delta_reads = 0;
    for phone in &mut phones {
        // The faults have stopped: a phone still signed out signs in now.
        if phone.signed_out && !phone.household.members[phone.member].login(&client).await? {
            anyhow::bail!("a phone could not sign in after the faults stopped");
        }
        let token = phone.household.members[phone.member].access();
        let differences = phone.copy.differences(&client, &token).await?;
        findings.check(
            "a delta-synced copy equals a fresh full read",
            differences.is_empty(),
            || differences.iter().take(5).cloned().collect::<Vec<_>>().join("; "),
        );
        delta_reads += phone.copy.delta_reads;
    }
    for mismatch in shared
        .replay_mismatches
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default()
    {
        findings.violations.push(format!(
            "a retried write is answered with the first answer: {mismatch}"
        ));
    }
    *findings
        .checked
        .entry("a retried write is answered with the first answer")
        .or_default() += shared.replays.load(Ordering::Relaxed);
    let rule = "another member's request with a write's key answers 409 and writes nothing";
    *findings.checked.entry(rule).or_default() += shared.cross_member_tries.load(Ordering::Relaxed);
    for leak in shared
        .cross_member_leaks
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default()
    {
        findings.violations.push(format!("{rule}: {leak}"));
    }
    let leaks = shared.leaks.lock().map(|l| l.clone()).unwrap_or_default();
    *findings
        .checked
        .entry("another household's ids answer 404 in paths, 422 in bodies")
        .or_default() += shared.foreign_tries.load(Ordering::Relaxed);
    for leak in leaks {
        findings.violations.push(format!(
            "another household's ids answer 404 in paths, 422 in bodies: {leak}"
        ));
    }
    *findings.checked.entry(churn::RULE).or_default() += shared.removals.load(Ordering::Relaxed);
    for finding in shared
        .removal_findings
        .lock()
        .map(|f| f.clone())
        .unwrap_or_default()
    {
        findings.violations.push(format!("{}: {finding}", churn::RULE));
    }
    for unexpected in stats.unexpected_errors() {
        findings
            .violations
            .push(format!("no 5xx but 503 to injected faults: {unexpected}"));
    }
    fleet.stop().await;

    let report = report::Report {
        args: &args,
        elapsed,
        stats: &stats,
        findings: &findings,
        injected: &injected,
        kills: fleet.kills.load(Ordering::Relaxed),
        cold_starts: fleet.cold_starts.load(Ordering::Relaxed),
        emulator: &emulator_stats,
        delta_reads,
        sign_ins_lost: shared.sign_ins_lost.load(Ordering::Relaxed),
        scheduler: scheduled,
    };
    let markdown = report.markdown(&bench::machine());
    if let Some(parent) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.output, &markdown).with_context(|| format!("writing {}", args.output.display()))?;
    println!("\n{markdown}\nWrote {}.", args.output.display());
    if findings.violations.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("\n{} invariant violations:", findings.violations.len());
        for violation in findings.violations.iter().take(50) {
            eprintln!("  {violation}");
        }
        for line in stats.error_logs() {
            eprintln!("  log: {line}");
        }
        Ok(ExitCode::FAILURE)
    }
}
