//! The API functions' part of template.yaml, generated from `functions::ENDPOINTS`.
//!
//! Every endpoint's function has the same shape (its binary, its route, its log group, the same
//! least-privilege policy and environment), so it is written once here rather than copied ~30
//! times by hand. `cargo xtask template` rewrites the section between [`BEGIN`] and [`END`]; a test
//! fails when the committed template differs from what this produces.

use anyhow::{Context, bail};
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

/// One endpoint's function and log group.
fn function(binary: &str, route: Route) -> String {
    let id = logical_id(binary);
    let (method, path) = (route.method, route.path);
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
          AUTH_TOKEN_SECRET: !Sub "{{{{resolve:secretsmanager:${{AuthTokenSecret}}:SecretString:current}}}}"
          AUTH_TOKEN_SECRET_PREVIOUS: !Sub "{{{{resolve:secretsmanager:${{AuthTokenSecret}}:SecretString:previous}}}}"
          AUTH_TOKEN_SECRET_NEXT: !Sub "{{{{resolve:secretsmanager:${{AuthTokenSecret}}:SecretString:next}}}}"
      Events:
        Api:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Method: {method}
            Path: {path}
      Policies:
        - Statement:
            - Effect: Allow
              Action: rds-data:ExecuteStatement
              Resource: !Sub arn:${{AWS::Partition}}:rds:${{AWS::Region}}:${{AWS::AccountId}}:cluster:${{DatabaseCluster}}
            - Effect: Allow
              Action: secretsmanager:GetSecretValue
              Resource: !Ref AppDatabaseSecret

  {id}Logs:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      RetentionInDays: !Ref LogRetentionDays

"#
    )
}

/// The whole generated section, markers included.
pub fn api_functions(endpoints: &[(&str, Route)]) -> String {
    let mut out = String::from(BEGIN);
    out.push('\n');
    for (binary, route) in endpoints {
        out.push_str(&function(binary, *route));
    }
    out.push_str(END);
    out
}

/// `template` with its generated section replaced by [`api_functions`] of `endpoints`.
///
/// # Errors
/// When the markers are missing or out of order.
pub fn regenerate(template: &str, endpoints: &[(&str, Route)]) -> anyhow::Result<String> {
    let start = template
        .find(BEGIN)
        .context("template.yaml has no generated-section start marker")?;
    let end = template
        .find(END)
        .context("template.yaml has no generated-section end marker")?;
    if end < start {
        bail!("template.yaml's generated-section markers are out of order");
    }
    Ok(format!(
        "{}{}{}",
        &template[..start],
        api_functions(endpoints),
        &template[end + END.len()..]
    ))
}
