//! The parts of the build and deploy files that list every endpoint, generated from
//! `functions::registry`: the API functions of template.yaml, the `cargo lambda watch` router in
//! the workspace's Cargo.toml, the `[[bin]]` entries of functions/Cargo.toml and each endpoint's
//! binary (`functions/src/bin/<name>.rs`).
//!
//! Every endpoint's function has the same shape (its binary, its route, its log group, the shared
//! least-privilege role `ApiFunctionRole` and the same environment), so it is written once here
//! rather than copied per endpoint. `cargo xtask template` rewrites each file's section between its markers; a test
//! fails when a committed file differs from what this produces.

use anyhow::{Context, bail};
use functions::{Endpoint, Kind};
use shared::http::Route;

/// The line that opens the generated section.
pub const BEGIN: &str =
    "  # --- API functions: generated from functions::ENDPOINTS by `cargo xtask template`; do not edit ---\n";
/// The line that closes it.
pub const END: &str = "  # --- end of the generated API functions ---\n";

/// `auth-register` → `AuthRegister`: the prefix of the function's logical ids.
pub fn logical_id(binary: &str) -> String {
    binary
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// One endpoint's function and log group. Every function verifies access tokens with the public
/// keys of `AuthTokenPublicKeys` (plain text); only one that issues tokens runs as
/// `TokenIssuerRole` and is told where the signing secret is (its ARN and the version the public
/// keys come from), never the key itself; one that makes no database call runs as
/// `PublicFunctionRole`, which grants nothing but its logs.
fn function(binary: &str, route: Route, issues_tokens: bool, database: bool) -> String {
    let id = logical_id(binary);
    let (method, path) = (route.method, route.path);
    let (role, signing) = if !database {
        ("PublicFunctionRole", "")
    } else if issues_tokens {
        (
            "TokenIssuerRole",
            "\n          AUTH_TOKEN_SECRET_ARN: !Ref AuthTokenSecret\n          AUTH_TOKEN_SECRET_VERSION: !GetAtt AuthTokenPublicKeys.SecretVersionId",
        )
    } else {
        ("ApiFunctionRole", "")
    };
    format!(
        r#"  {id}Function:
    Type: AWS::Serverless::Function
    DependsOn: SchemaMigration
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: {binary}
    Properties:
      CodeUri: .
      LoggingConfig:
        LogGroup: !Ref {id}Logs
      Environment:
        Variables:
          AUTH_TOKEN_PUBLIC_KEYS: !GetAtt AuthTokenPublicKeys.PublicKeys{signing}
      Events:
        Api:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Method: {method}
            Path: {path}
      Role: !GetAtt {role}.Arn

  {id}Logs:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      RetentionInDays: !Ref LogRetentionDays

"#
    )
}

/// The whole generated section, markers included. An endpoint's [`Kind`] decides its role: the
/// token issuers read the signing secret, the public ones get no database grant.
pub fn api_functions(endpoints: &[Endpoint]) -> String {
    let mut out = String::from(BEGIN);
    out.push('\n');
    for endpoint in endpoints {
        out.push_str(&function(
            endpoint.name,
            endpoint.route,
            endpoint.kind == Kind::Issuer,
            endpoint.kind != Kind::Public,
        ));
    }
    out.push_str(END);
    out
}

/// The markers of a generated section in a TOML file.
pub const TOML_BEGIN: &str =
    "# --- generated from functions::ENDPOINTS by `cargo xtask template`; do not edit ---\n";
pub const TOML_END: &str = "# --- end of the generated section ---\n";

/// The `cargo lambda watch` router: every path, with each method's binary (paths in the order
/// their first endpoint is listed).
pub fn router(endpoints: &[Endpoint]) -> String {
    let mut paths: Vec<(&str, Vec<String>)> = Vec::new();
    for Endpoint {
        name: binary, route, ..
    } in endpoints
    {
        let entry = format!("{{ method = \"{}\", function = \"{binary}\" }}", route.method);
        match paths.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, methods)) => methods.push(entry),
            None => paths.push((route.path, vec![entry])),
        }
    }
    let mut out = format!("{TOML_BEGIN}[workspace.metadata.lambda.watch.router]\n");
    for (path, methods) in paths {
        out.push_str(&format!("\"{path}\" = [{}]\n", methods.join(", ")));
    }
    out.push_str(TOML_END);
    out
}

/// One `[[bin]]` per binary, without a test harness (the tests are the one `api` binary).
pub fn bins(binaries: &[&str]) -> String {
    let mut out = String::from(TOML_BEGIN);
    for binary in binaries {
        out.push_str(&format!("[[bin]]\nname = \"{binary}\"\ntest = false\n\n"));
    }
    out.push_str(TOML_END);
    out
}

/// An endpoint's binary: one line naming its registry constant, so it links only its own handler.
pub fn binary(endpoint: &Endpoint) -> String {
    format!(
        "//! Generated from `functions::registry` by `cargo xtask template`; do not edit.\n\n\
         fn main() -> Result<(), lambda_http::Error> {{\n    \
         functions::registry::{}.serve()\n}}\n",
        endpoint.constant()
    )
}

/// `text` with the section between `begin` and `end` (markers included) replaced by `section`.
///
/// # Errors
/// When the markers are missing or out of order.
pub fn replace_section(text: &str, begin: &str, end: &str, section: &str) -> anyhow::Result<String> {
    let start = text
        .find(begin)
        .with_context(|| format!("no generated-section start marker {begin:?}"))?;
    let stop = text
        .find(end)
        .with_context(|| format!("no generated-section end marker {end:?}"))?;
    if stop < start {
        bail!("the generated-section markers are out of order");
    }
    Ok(format!(
        "{}{section}{}",
        &text[..start],
        &text[stop + end.len()..]
    ))
}

/// A file with a generated section: as committed, and as it should be.
pub struct GeneratedFile {
    /// From the repository root.
    pub path: String,
    pub committed: String,
    pub generated: String,
}

/// [`regenerate_all`] for this checkout's functions (`functions::registry`).
///
/// # Errors
/// As [`regenerate_all`].
pub fn regenerate() -> anyhow::Result<Vec<GeneratedFile>> {
    regenerate_all(functions::ENDPOINTS, functions::OTHER_FUNCTIONS)
}

/// Every file with a generated section, read and regenerated, then every endpoint's binary (an
/// empty `committed` when it does not exist yet).
///
/// # Errors
/// When a file cannot be read or lacks its markers.
pub fn regenerate_all(endpoints: &[Endpoint], other_binaries: &[&str]) -> anyhow::Result<Vec<GeneratedFile>> {
    let mut binaries: Vec<&str> = other_binaries.to_vec();
    binaries.extend(endpoints.iter().map(|endpoint| endpoint.name));
    let sections = [
        ("template.yaml", BEGIN, END, api_functions(endpoints)),
        ("Cargo.toml", TOML_BEGIN, TOML_END, router(endpoints)),
        ("functions/Cargo.toml", TOML_BEGIN, TOML_END, bins(&binaries)),
    ];
    let mut out = Vec::new();
    for (path, begin, end, section) in sections {
        let full = crate::repository::existing(path)?;
        let committed =
            std::fs::read_to_string(&full).with_context(|| format!("reading {}", full.display()))?;
        let generated =
            replace_section(&committed, begin, end, &section).with_context(|| format!("in {path}"))?;
        out.push(GeneratedFile {
            path: path.to_owned(),
            committed,
            generated,
        });
    }
    let bin = crate::repository::existing("functions/src/bin")?;
    for endpoint in endpoints {
        let file = bin.join(format!("{}.rs", endpoint.name));
        let committed = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(error).with_context(|| format!("reading {}", file.display())),
        };
        out.push(GeneratedFile {
            path: format!("functions/src/bin/{}.rs", endpoint.name),
            committed,
            generated: binary(endpoint),
        });
    }
    Ok(out)
}
