//! `cargo xtask <command>`: the developer commands. Each lives in its own module.

mod bench;
mod dev;
mod load;
mod schema;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Developer commands for the budget API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure round trips, latency, cold start, size, argon2 and cost into bench/results.md.
    Bench(bench::BenchArgs),
    /// Households on many phones at once, with faults injected; then check the books.
    Load(load::LoadArgs),
    /// Run the whole API locally: PostgreSQL, data-api-local, cargo lambda watch, migrations.
    Dev(dev::DevArgs),
    /// Generate migrations from the table mappings, or check the schema for drift.
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
    /// Rewrite what lists every endpoint from functions::registry: template.yaml's API functions,
    /// the cargo lambda watch router (Cargo.toml), the [[bin]] entries (functions/Cargo.toml) and
    /// the binaries (functions/src/bin/).
    Template,
    /// Write openapi.json, the OpenAPI document generated from the endpoints.
    Openapi,
    /// Find, install or start the PostgreSQL the tests use (template.yaml's major, with an
    /// Aurora-like master) and print it.
    Postgres,
}

/// The server the tests and the dev stack use, found, installed or started as they would.
async fn postgres() -> anyhow::Result<()> {
    let server = harness::postgres::server().await?;
    let admin = server.connect(server.maintenance_database()).await?;
    let version: String = admin.query_one("SELECT version()", &[]).await?.get(0);
    println!("{}", server.base_url());
    println!("{version}");
    println!(
        "master login (like Aurora's): {} in {}",
        harness::aurora::MASTER_ROLE,
        harness::aurora::RDS_SUPERUSER
    );
    Ok(())
}

/// Writes the OpenAPI document to openapi.json at the repository root.
fn openapi() -> anyhow::Result<()> {
    let path = harness::repository::root()?.join("openapi.json");
    let generated = functions::openapi::pretty(functions::ENDPOINTS);
    // A first run has no file yet; any other failure to read it is an error, not "differs".
    let committed = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error.into()),
    };
    if committed == generated {
        println!("openapi.json is up to date");
    } else {
        std::fs::write(&path, generated)?;
        println!("wrote openapi.json");
    }
    Ok(())
}

/// Regenerates what lists every endpoint (template.yaml's API functions, the local router, the
/// `[[bin]]` entries, the binaries); prints what changed.
fn template() -> anyhow::Result<()> {
    let files = harness::template::regenerate()?;
    let mut written = 0;
    for file in files {
        if file.committed != file.generated {
            std::fs::write(harness::repository::root()?.join(&file.path), file.generated)?;
            println!("wrote {}", file.path);
            written += 1;
        }
    }
    println!(
        "({} endpoints; {written} files written, the others were up to date)",
        functions::ENDPOINTS.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::Bench(args) => bench::run(args).await,
        Command::Load(args) => load::run(args).await,
        Command::Dev(args) => dev::run(args).await.map(|()| std::process::ExitCode::SUCCESS),
        Command::Schema(command) => schema::run(command).await,
        Command::Template => template().map(|()| std::process::ExitCode::SUCCESS),
        Command::Openapi => openapi().map(|()| std::process::ExitCode::SUCCESS),
        Command::Postgres => postgres().await.map(|()| std::process::ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
