//! Finds a PostgreSQL server for tests and the dev stack, in this order:
//! 1. `DATABASE_URL`, if set;
//! 2. a server on 127.0.0.1:5432 that lets `postgres` in;
//! 3. an ephemeral cluster under `target/pg-ephemeral`, started from the installed server binaries
//!    (as the `postgres` user when running as root) and left running for the next test process;
//!    stop it with `pg_ctl -D target/pg-ephemeral/data stop`.
//!
//! When none of these works the error names what to install.

use std::fs::File;
use std::path::{Path, PathBuf};
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
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let server = Server {
            config: url.parse().context("DATABASE_URL is not a PostgreSQL URL")?,
        };
        probe(&server)
            .await
            .context("DATABASE_URL is set but its server does not answer")?;
        return Ok(server);
    }
    let local = Server {
        config: "postgres://postgres@127.0.0.1:5432/postgres".parse()?,
    };
    if probe(&local).await.is_ok() {
        return Ok(local);
    }
    let server = tokio::task::spawn_blocking(start_ephemeral).await??;
    probe(&server)
        .await
        .context("the ephemeral cluster started but does not answer")?;
    Ok(server)
}

async fn probe(server: &Server) -> anyhow::Result<()> {
    let mut config = server.config.clone();
    config.connect_timeout(Duration::from_secs(3));
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client.simple_query("SELECT 1").await?;
    Ok(())
}

fn start_ephemeral() -> anyhow::Result<Server> {
    let root = crate::repository::target_dir()?.join("pg-ephemeral");
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    // Test processes run in parallel; one of them starts the cluster, the others wait and reuse it.
    let lock = File::create(root.join("lock"))?;
    lock.lock().context("locking the ephemeral cluster directory")?;
    let data = root.join("data");
    let port_file = root.join("port");
    let bin = server_binaries()?;
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

/// The directory holding `initdb` and `pg_ctl`: `pg_config --bindir`, `PATH`, or Debian's
/// `/usr/lib/postgresql/<version>/bin` (the newest).
fn server_binaries() -> anyhow::Result<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").exists() && dir.join("pg_ctl").exists();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_tools(&dir) {
            return Ok(dir);
        }
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|d| has_tools(d))
    {
        return Ok(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, dir)) => Ok(dir),
        None => bail!(
            "no PostgreSQL found: set DATABASE_URL, run a server on 127.0.0.1:5432 that trusts the \
             user postgres, or install the server binaries (Debian/Ubuntu: apt-get install postgresql; \
             macOS: brew install postgresql) so the tests can start their own"
        ),
    }
}

fn is_root() -> bool {
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

fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
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
