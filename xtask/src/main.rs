//! `cargo xtask <command>`: the developer commands. Each lives in its own module.

mod bench;
mod dev;
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
    /// Run the whole API locally: PostgreSQL, data-api-local, cargo lambda watch, migrations.
    Dev(dev::DevArgs),
    /// Generate migrations from the table mappings, or check the schema for drift.
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
    /// Rewrite the API functions' section of template.yaml from functions::ENDPOINTS.
    Template,
}

/// Regenerates template.yaml's API functions; prints whether anything changed.
fn template() -> anyhow::Result<()> {
    let path = harness::repository::existing("template.yaml")?;
    let text = std::fs::read_to_string(&path)?;
    let regenerated = harness::template::regenerate(&text, functions::ENDPOINTS)?;
    if regenerated == text {
        println!(
            "template.yaml is up to date ({} API functions)",
            functions::ENDPOINTS.len()
        );
    } else {
        std::fs::write(&path, regenerated)?;
        println!(
            "wrote template.yaml ({} API functions)",
            functions::ENDPOINTS.len()
        );
    }
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
        Command::Dev(args) => dev::run(args).await.map(|()| std::process::ExitCode::SUCCESS),
        Command::Schema(command) => schema::run(command).await,
        Command::Template => template().map(|()| std::process::ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
