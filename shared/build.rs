//! Embeds every file of `migrations/` in the crate, so the migrate function always ships with the
//! SQL it was built with. Names are validated at run time by `migrate::from_files`, the same code
//! that validates a directory, so an unexpected file is an error rather than silently skipped.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|read| read.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    let mut out = String::from("pub static FILES: &[(&str, &str)] = &[\n");
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || !path.is_file() {
            continue;
        }
        println!("cargo::rerun-if-changed={}", path.display());
        let absolute = path.canonicalize().unwrap_or(path);
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            absolute.display().to_string()
        )
        .unwrap_or_default();
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("embedded_migrations.rs");
    std::fs::write(target, out).unwrap_or_else(|e| panic!("writing embedded_migrations.rs: {e}"));
}
