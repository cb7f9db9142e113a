//! `data-api-local`: serve the local RDS Data API until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// A strict local RDS Data API over PostgreSQL.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "DATA_API_LOCAL_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// PostgreSQL to run statements on; each request's `database` picks the database.
    #[arg(
        long,
        env = "DATA_API_LOCAL_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    postgres: String,
    /// Database for requests that name none.
    #[arg(long, env = "DATA_API_LOCAL_DEFAULT_DATABASE", default_value = "postgres")]
    default_database: String,
    /// Seconds a transaction may stay idle before it is rolled back (AWS: 180).
    #[arg(long, env = "DATA_API_LOCAL_TRANSACTION_TIMEOUT", default_value_t = 180)]
    transaction_timeout: u64,
    /// Seconds a statement may run (AWS: 45).
    #[arg(long, env = "DATA_API_LOCAL_STATEMENT_TIMEOUT", default_value_t = 45)]
    statement_timeout: u64,
    /// A secret (repeatable): calls naming ARN log in as USER, or as the --postgres URL's user
    /// (the master) when only ARN is given. With none, every call is the master; with any, an
    /// unknown secret ARN is refused.
    #[arg(long = "secret", value_name = "ARN[=USER:PASSWORD]", value_parser = parse_secret)]
    secrets: Vec<(String, Option<data_api_local::Credentials>)>,
    /// A secret that is not a database login (repeatable): `GetSecretValue` of ARN answers TEXT.
    #[arg(long = "secret-string", value_name = "ARN=TEXT", value_parser = parse_secret_string)]
    secret_strings: Vec<(String, String)>,
}

fn parse_secret_string(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(arn, value)| (arn.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("expected ARN=TEXT, got {text:?}"))
}

fn parse_secret(text: &str) -> Result<(String, Option<data_api_local::Credentials>), String> {
    match text.split_once('=') {
        None => Ok((text.to_owned(), None)),
        Some((arn, login)) => Ok((arn.to_owned(), Some(data_api_local::Credentials::parse(login)?))),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "data_api_local=info".into()),
        )
        .init();
    let args = Args::parse();
    let mut config = data_api_local::Config::new(args.postgres);
    config.default_database = args.default_database;
    config.transaction_idle_timeout = Duration::from_secs(args.transaction_timeout);
    config.statement_timeout = Duration::from_secs(args.statement_timeout);
    config.secrets = args.secrets.into_iter().collect();
    config.secret_strings = args.secret_strings.into_iter().collect();
    let running = data_api_local::spawn(config, args.listen).await?;
    tracing::info!(endpoint = %running.endpoint(), "data-api-local listening");
    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping");
    drop(running);
    Ok(())
}
