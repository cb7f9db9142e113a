//! Migration files: parsed from a directory (tools, tests) or from the copies embedded at build
//! time (the migrate function), validated the same way.

use std::path::Path;

use sha2::{Digest, Sha256};

/// One migration: its version, name, both scripts and the checksum of the up script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub up: String,
    pub down: String,
    /// SHA-256 (hex) of the up script with CRLF normalised to LF, so a checkout on Windows does not
    /// count as a change.
    pub checksum: String,
}

impl Migration {
    pub fn up_statements(&self) -> Vec<&str> {
        sql_scan::split_statements(&self.up)
    }

    pub fn down_statements(&self) -> Vec<&str> {
        sql_scan::split_statements(&self.down)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationFileError {
    #[error("{0}: not a migration file name (expected NNNN_name.up.sql or NNNN_name.down.sql)")]
    UnexpectedName(String),
    #[error("migration {version} has no {missing} file")]
    Incomplete { version: i64, missing: &'static str },
    #[error("migration {version} has two files for the same direction ({first} and {second})")]
    Duplicate {
        version: i64,
        first: String,
        second: String,
    },
    #[error("reading {path}: {message}")]
    Read { path: String, message: String },
}

/// The checksum of a script: SHA-256 of its LF-normalised text, hex.
pub fn checksum(text: &str) -> String {
    hex::encode(Sha256::digest(text.replace("\r\n", "\n").as_bytes()))
}

/// Parses `(file name, contents)` pairs into migrations ordered by version.
///
/// # Errors
/// [`MigrationFileError`] for a file with another name, a version missing its up or down script,
/// or two scripts for one version and direction.
pub fn from_files<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<Migration>, MigrationFileError> {
    struct Partial {
        name: String,
        up: Option<(String, String)>,
        down: Option<(String, String)>,
    }
    let mut partial: std::collections::BTreeMap<i64, Partial> = std::collections::BTreeMap::new();
    for (file, contents) in files {
        let (version, name, is_up) =
            parse_name(file).ok_or_else(|| MigrationFileError::UnexpectedName(file.to_owned()))?;
        let entry = partial.entry(version).or_insert_with(|| Partial {
            name: name.to_owned(),
            up: None,
            down: None,
        });
        let slot = if is_up { &mut entry.up } else { &mut entry.down };
        if let Some((first, _)) = slot {
            return Err(MigrationFileError::Duplicate {
                version,
                first: first.clone(),
                second: file.to_owned(),
            });
        }
        *slot = Some((file.to_owned(), contents.to_owned()));
    }
    partial
        .into_iter()
        .map(|(version, p)| {
            let (_, up) = p.up.ok_or(MigrationFileError::Incomplete {
                version,
                missing: "up",
            })?;
            let (_, down) = p.down.ok_or(MigrationFileError::Incomplete {
                version,
                missing: "down",
            })?;
            Ok(Migration {
                version,
                name: p.name,
                checksum: checksum(&up),
                up,
                down,
            })
        })
        .collect()
}

/// `0001_initial_schema.up.sql` → (1, "initial_schema", true).
fn parse_name(file: &str) -> Option<(i64, &str, bool)> {
    let (stem, is_up) = match file.strip_suffix(".up.sql") {
        Some(stem) => (stem, true),
        None => (file.strip_suffix(".down.sql")?, false),
    };
    let (digits, name) = stem.split_once('_')?;
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || !valid_name {
        return None;
    }
    Some((digits.parse().ok()?, name, is_up))
}

/// Reads every file in `dir` (hidden files aside) as a migration.
///
/// # Errors
/// As [`from_files`], or [`MigrationFileError::Read`].
pub fn from_dir(dir: &Path) -> Result<Vec<Migration>, MigrationFileError> {
    let read_error = |path: &Path, e: std::io::Error| MigrationFileError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| read_error(dir, e))? {
        let entry = entry.map_err(|e| read_error(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let contents = std::fs::read_to_string(entry.path()).map_err(|e| read_error(&entry.path(), e))?;
        files.push((name, contents));
    }
    from_files(files.iter().map(|(n, c)| (n.as_str(), c.as_str())))
}

mod generated {
    include!(concat!(env!("OUT_DIR"), "/embedded_migrations.rs"));
}

/// The migrations embedded in this binary at build time (the `migrations/` directory).
///
/// # Errors
/// As [`from_files`].
pub fn embedded() -> Result<Vec<Migration>, MigrationFileError> {
    from_files(generated::FILES.iter().copied())
}
