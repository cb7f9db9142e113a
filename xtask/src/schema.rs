//! `cargo xtask schema generate|check`: the `alembic revision --autogenerate` / `alembic check`
//! workflow over the table mappings in `shared/src/schema/tables.rs`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use harness::TestDataApi;
use harness::schema::{migrations, migrations_dir};
use shared::db::Db;
use shared::migrate;
use shared::schema::{check, diff, render, tables};

#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Write migrations from the mappings: with no name, the consolidated 0001_initial_schema;
    /// with --name, the next migration (mappings minus what the existing chain produces).
    Generate {
        /// Name of the next migration, e.g. add_account_color (lower case, digits, underscores).
        #[arg(long)]
        name: Option<String>,
        /// Allow the migration to drop tables or columns (their data is lost).
        #[arg(long)]
        allow_drop: bool,
    },
    /// Compare a database with the mappings, and its migration ledger (versions and checksums)
    /// with this checkout's migrations/; by default a scratch database that the committed
    /// migrations are applied to. Prints "No drift detected" (exit 0) or one line per difference (exit 1).
    Check(Target),
}

/// Which database `check` reads; none of these means a scratch database.
#[derive(Args)]
pub struct Target {
    /// A PostgreSQL URL (its database part names the database), reached through an in-process
    /// data-api-local.
    #[arg(long, conflicts_with_all = ["endpoint", "resource_arn"])]
    database_url: Option<String>,
    /// A Data API endpoint (e.g. a running data-api-local); without it, but with the ARNs, the
    /// real Data API from the AWS configuration chain.
    #[arg(long)]
    endpoint: Option<String>,
    #[arg(long, env = "DB_CLUSTER_ARN", requires = "secret_arn")]
    resource_arn: Option<String>,
    #[arg(long, env = "DB_SECRET_ARN")]
    secret_arn: Option<String>,
    #[arg(long, env = "DB_NAME", default_value = "budget")]
    database: String,
}

pub async fn run(command: SchemaCommand) -> anyhow::Result<ExitCode> {
    match command {
        SchemaCommand::Generate { name: None, .. } => generate_initial(),
        SchemaCommand::Generate {
            name: Some(name),
            allow_drop,
        } => generate_next(&name, allow_drop).await,
        SchemaCommand::Check(target) => check_target(target).await,
    }
}

fn write(version: i64, name: &str, up: &[String], down: &[String]) -> anyhow::Result<()> {
    let dir = migrations_dir()?;
    for (direction, statements) in [("up", up), ("down", down)] {
        let path = dir.join(format!("{version:04}_{name}.{direction}.sql"));
        std::fs::write(&path, render::migration_file(statements))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", relative(&path));
    }
    Ok(())
}

fn relative(path: &Path) -> String {
    path.canonicalize()
        .ok()
        .and_then(|p| {
            let root = harness::repository::root().ok()?.canonicalize().ok()?;
            p.strip_prefix(root).ok().map(|p| p.display().to_string())
        })
        .unwrap_or_else(|| path.display().to_string())
}

/// The consolidated first migration, straight from the mappings.
fn generate_initial() -> anyhow::Result<ExitCode> {
    let existing = migrations()?;
    if existing.iter().any(|m| m.version > 1) {
        bail!(
            "migrations after 0001 exist; rewriting 0001 would break the chain. Use --name NAME for the next migration"
        );
    }
    let schema = tables::schema();
    write(
        1,
        "initial_schema",
        &render::create_statements(&schema),
        &render::drop_statements(&schema),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The next migration: what the mappings have that the applied chain does not, and back.
async fn generate_next(name: &str, allow_drop: bool) -> anyhow::Result<ExitCode> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        bail!("a migration name is lower case letters, digits and underscores, e.g. add_account_color");
    }
    let existing = migrations()?;
    let scratch = TestDataApi::start().await?;
    let db = scratch.db();
    migrate::up(&db, &existing, None)
        .await
        .context("applying the existing migrations to a scratch database")?;
    let differences = check::check(&db, &tables::schema()).await?;
    if differences.is_empty() {
        println!("No changes: the migrations already produce the mappings; nothing written.");
        return Ok(ExitCode::SUCCESS);
    }
    let sql = diff::migration(&differences, allow_drop)?;
    let version = existing.last().map_or(1, |m| m.version + 1);
    write(version, name, &sql.up, &sql.down)?;
    for difference in &differences {
        println!("  {difference}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn check_target(target: Target) -> anyhow::Result<ExitCode> {
    let mappings = tables::schema();
    // What serves the checked database lives until the check is done.
    let (mut emulator, mut scratch): (Option<data_api_local::Running>, Option<TestDataApi>) = (None, None);
    let db = if let Some(url) = target.database_url {
        let (base, database) = url
            .rsplit_once('/')
            .context("--database-url needs a database, e.g. postgres://…/budget")?;
        let running = emulator.insert(
            data_api_local::spawn(data_api_local::Config::new(base), ([127, 0, 0, 1], 0).into()).await?,
        );
        Db::new(
            harness::data_api::client(&running.endpoint()),
            "local",
            "local",
            database,
        )
    } else if let (Some(resource_arn), Some(secret_arn)) = (target.resource_arn, target.secret_arn) {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(shared::db::https_client());
        if let Some(endpoint) = &target.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let client = aws_sdk_rdsdata::Client::new(&loader.load().await);
        Db::new(client, &resource_arn, &secret_arn, &target.database)
    } else {
        let api = scratch.insert(TestDataApi::start().await?);
        migrate::up(&api.db(), &migrations()?, None)
            .await
            .context("applying the migrations to a scratch database")?;
        api.db()
    };
    let mut problems = ledger_problems(&db).await?;
    problems.extend(
        check::check(&db, &mappings)
            .await?
            .iter()
            .map(ToString::to_string),
    );
    if problems.is_empty() {
        println!("No drift detected");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Drift: {} difference(s) between this checkout and the database:",
        problems.len()
    );
    for problem in &problems {
        println!("  {problem}");
    }
    Ok(ExitCode::FAILURE)
}

/// The database's migration ledger against this checkout's `migrations/`: versions applied there
/// but not here (or with another checksum), and versions here not yet applied there. This is the
/// comparison a deployer makes between a deployed migrate function and the repository.
async fn ledger_problems(db: &Db) -> anyhow::Result<Vec<String>> {
    let repository = migrations()?;
    let status = migrate::status(db, &repository)
        .await
        .context("reading the migration ledger")?;
    let mut problems = status.problems;
    problems.extend(
        status
            .pending
            .iter()
            .map(|version| format!("migration {version:04} of this checkout is not applied")),
    );
    Ok(problems)
}
