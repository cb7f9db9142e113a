//! Where this checkout is, found when the program runs.
//!
//! Never read at compile time (the `env!` macro): that freezes the path of whichever checkout
//! compiled the crate first, and checkouts sharing a `CARGO_TARGET_DIR` share compiled crates,
//! so one checkout's tests would read another's migrations and template. Cargo sets `CARGO_MANIFEST_DIR` for every
//! process it runs (`cargo test`, `cargo run`, `cargo xtask`, nextest too), so it is read then.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The workspace root: the nearest directory at or above the running package's manifest whose
/// `Cargo.toml` declares `[workspace]`.
///
/// # Errors
/// When not run through cargo, or no workspace manifest is found.
pub fn root() -> anyhow::Result<PathBuf> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").context(
        "CARGO_MANIFEST_DIR is not set: run this through cargo (cargo test, cargo xtask …) so it can find the repository",
    )?;
    for dir in Path::new(&manifest_dir).ancestors() {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if text.lines().any(|line| line.trim() == "[workspace]") {
            return Ok(dir.to_path_buf());
        }
    }
    bail!(
        "no workspace Cargo.toml at or above {}",
        Path::new(&manifest_dir).display()
    )
}

/// A path inside the repository that must exist.
///
/// # Errors
/// As [`root`], or when the path does not exist.
pub fn existing(relative: &str) -> anyhow::Result<PathBuf> {
    let path = root()?.join(relative);
    if !path.exists() {
        bail!("{} does not exist in this checkout", path.display());
    }
    Ok(path)
}

/// The build's target directory: `CARGO_TARGET_DIR` (relative to the repository if relative),
/// else the repository's `target/`.
///
/// # Errors
/// As [`root`].
pub fn target_dir() -> anyhow::Result<PathBuf> {
    let root = root()?;
    Ok(match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    })
}
