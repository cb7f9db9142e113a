//! template.yaml and the code agree: one function per binary and one binary per function, each
//! HTTP function's route equal to its handler's `ROUTE` and to the local router config, and the
//! migration custom resource's `SchemaVersion` equal to the newest migration.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_yaml::Value;

fn root() -> PathBuf {
    harness::repository::root().unwrap()
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Binary name → (method, path) or None for functions without an HTTP event.
fn template_functions(template: &Value) -> BTreeMap<String, Option<(String, String)>> {
    let mut out = BTreeMap::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            resource["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{binary}"
        );
        let events = resource["Properties"]["Events"].as_mapping();
        let routes: Vec<(String, String)> = events
            .into_iter()
            .flatten()
            .filter(|(_, e)| e["Type"].as_str() == Some("HttpApi"))
            .map(|(_, e)| {
                let p = &e["Properties"];
                (
                    p["Method"].as_str().unwrap().to_owned(),
                    p["Path"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(routes.len() <= 1, "{binary} has several routes");
        assert!(
            out.insert(binary.clone(), routes.into_iter().next()).is_none(),
            "{binary} has two functions"
        );
    }
    out
}

fn binaries() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("functions/src/bin"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_binary_has_exactly_one_function_and_every_function_a_binary() {
    let functions = template_functions(&template());
    assert_eq!(functions.keys().cloned().collect::<Vec<_>>(), binaries());
    let mut registered: Vec<String> = functions::ENDPOINTS.iter().map(|e| e.name.to_owned()).collect();
    registered.extend(functions::OTHER_FUNCTIONS.iter().map(|name| (*name).to_owned()));
    registered.sort();
    assert_eq!(registered, binaries(), "functions::registry lists every binary");
}

#[test]
fn every_route_matches_the_handler_and_the_local_router() {
    let functions = template_functions(&template());
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .unwrap();
    let routes: usize = router
        .values()
        .map(|methods| methods.as_array().unwrap().len())
        .sum();
    assert_eq!(routes, functions::ENDPOINTS.len(), "one local route per endpoint");
    for functions::Endpoint {
        name: binary, route, ..
    } in functions::ENDPOINTS
    {
        let expected = Some((route.method.to_owned(), route.path.to_owned()));
        assert_eq!(functions[*binary], expected, "template.yaml route of {binary}");
        let local = router[route.path].as_array().unwrap();
        let local: Vec<(&str, &str)> = local
            .iter()
            .map(|r| (r["method"].as_str().unwrap(), r["function"].as_str().unwrap()))
            .collect();
        assert!(
            local.contains(&(route.method, *binary)),
            "router config for {} {}: {local:?}",
            route.method,
            route.path
        );
    }
    for other in functions::OTHER_FUNCTIONS {
        assert_eq!(functions[*other], None, "{other} has no HTTP route");
    }
}

#[test]
fn the_migration_resource_names_the_newest_schema_version_and_api_functions_wait_for_it() {
    let template = template();
    let resources = template["Resources"].as_mapping().unwrap();
    let migration = &template["Resources"]["SchemaMigration"];
    let newest = harness::schema::migrations().unwrap().last().unwrap().version;
    assert_eq!(
        migration["Properties"]["SchemaVersion"].as_str(),
        Some(newest.to_string().as_str())
    );
    let depends: Vec<&str> = migration["DependsOn"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(
        depends,
        ["DatabaseWriter", "MigrateFunctionEventInvokeConfig"],
        "a database to migrate, and no Lambda retry in force before the first run"
    );
    // The migrate function reads which database to migrate from the request (functions::migrate::Target).
    let properties = &migration["Properties"];
    for name in [
        "ClusterArn",
        "DatabaseName",
        "MasterSecretArn",
        "AppSecretArn",
        "AppRoleGeneration",
    ] {
        assert!(!properties[name].is_null(), "SchemaMigration must pass {name}");
    }
    let cluster = serde_yaml::to_string(&properties["ClusterArn"]).unwrap();
    assert!(
        cluster.contains("DatabaseCluster.DBClusterArn"),
        "GetAtt, not a hand-built ARN: {cluster}"
    );
    for (name, resource) in resources {
        let has_http_event = resource["Properties"]["Events"]
            .as_mapping()
            .is_some_and(|events| events.values().any(|e| e["Type"].as_str() == Some("HttpApi")));
        if has_http_event {
            assert_eq!(
                resource["DependsOn"].as_str(),
                Some("SchemaMigration"),
                "{name:?} must wait for the migration"
            );
        }
    }
}

#[test]
fn the_files_that_list_every_endpoint_are_generated_from_the_endpoints() {
    let files = harness::template::regenerate().unwrap();
    for file in files {
        assert!(
            file.committed == file.generated,
            "{} differs from functions::ENDPOINTS: run `cargo xtask template`",
            file.path
        );
    }
}

#[test]
fn a_request_can_outwait_a_resuming_cluster_and_still_answer_before_api_gateway_gives_up() {
    // API Gateway HTTP APIs end an integration after 30 s; an auto-paused cluster takes about 15 s
    // to resume; a function stops retrying ANSWER_MARGIN before its own timeout to answer 503.
    let timeout = template()["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    let timeout = std::time::Duration::from_secs(timeout);
    let retry_window = timeout - functions::http::ANSWER_MARGIN;
    assert!(
        retry_window >= std::time::Duration::from_secs(15),
        "{retry_window:?}"
    );
    assert!(timeout < std::time::Duration::from_secs(30), "{timeout:?}");
}

#[test]
fn only_the_token_issuers_can_read_the_signing_secret_and_every_function_verifies_with_public_keys() {
    let template = template();
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    for endpoint in functions::ENDPOINTS {
        let binary = endpoint.name;
        let function = &template["Resources"][format!("{}Function", harness::template::logical_id(binary))];
        let variables = &function["Properties"]["Environment"]["Variables"];
        let issuer = endpoint.kind == functions::Kind::Issuer;
        let public = serde_yaml::to_string(&variables["AUTH_TOKEN_PUBLIC_KEYS"]).unwrap();
        assert!(
            public.contains("AuthTokenPublicKeys.PublicKeys"),
            "{binary}: {public}"
        );
        let version = serde_yaml::to_string(&variables["AUTH_TOKEN_SECRET_VERSION"]).unwrap();
        assert_eq!(
            version.contains("AuthTokenPublicKeys.SecretVersionId"),
            issuer,
            "{binary}"
        );
        assert_eq!(!variables["AUTH_TOKEN_SECRET_ARN"].is_null(), issuer, "{binary}");
        let role = serde_yaml::to_string(&function["Properties"]["Role"]).unwrap();
        let expected = if endpoint.kind == functions::Kind::Public {
            "PublicFunctionRole.Arn"
        } else if issuer {
            "TokenIssuerRole.Arn"
        } else {
            "ApiFunctionRole.Arn"
        };
        assert!(role.contains(expected), "{binary}: {role}");
    }
    // No function holds a secret in its environment, so no dynamic reference at all (CloudFormation
    // allows 60 per template; .ci/template-check counts them again after the SAM transform).
    assert_eq!(text.matches("{{resolve:").count(), 0);
}
