//! The OpenAPI 3.1 document, generated from the endpoints' own [`Doc`]s (which name the handlers'
//! request and response types; utoipa derives their schemas), and the two public endpoints that
//! serve it: `GET /openapi.json` and `GET /docs`. `cargo xtask openapi` writes it to
//! `openapi.json`; a test keeps that file, [`crate::registry`] and this document in step.

pub mod doc;
pub mod docs;
pub mod json;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

pub use doc::Doc;

use crate::endpoint::Endpoint;

const DESCRIPTION: &str = "A household budgeting API: households with several members, accounts, \
category groups and categories, payees, transactions (transfers, splits, bulk import) and monthly \
envelope budgets.\n\n\
Money is always an integer number of **milliunits** (1.000 = `1000`), never a float. Ids are \
UUIDv7. Dates are `YYYY-MM-DD`, months `YYYY-MM`. Errors are RFC 9457 problem documents \
(`application/problem+json`); a 422 lists every invalid field in `errors`. Resources carry an \
`ETag`; send it back as `If-Match` to write only if nobody changed the resource meanwhile.\n\n\
Sign in with `POST /auth/register` or `POST /auth/login`, then send the `access_token` as \
`Authorization: Bearer …`.";

/// The whole document for `endpoints` ([`crate::registry::ENDPOINTS`]). Each endpoint's operation
/// id is its binary's name.
///
/// # Panics
/// When two types share a schema name (a test runs this).
pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut schemas: BTreeMap<String, Value> = BTreeMap::new();
    for endpoint in endpoints {
        let doc = (endpoint.doc)();
        let (route, name) = (endpoint.route, endpoint.name);
        assert_eq!(doc.route, route, "{name} documents another route");
        let (operation, used) = doc.build(name);
        paths
            .entry(route.path.to_owned())
            .or_default()
            .insert(route.method.to_lowercase(), operation);
        for (schema_name, schema) in used {
            let schema = doc::schema_json(schema);
            if let Some(other) = schemas.get(&schema_name) {
                // Two types may not share a schema name (`#[schema(as = ...)]` renames one).
                assert_eq!(other, &schema, "two different schemas are named {schema_name}");
            }
            schemas.insert(schema_name, schema);
        }
    }
    let mut paths: Map<String, Value> = paths
        .into_iter()
        .map(|(p, ops)| (p, Value::Object(ops)))
        .collect();
    link_created_resources(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Household budget API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "The `access_token` from `POST /auth/login`, `/auth/register` or `/auth/refresh` (15 minutes).",
            }},
        },
    })
}

/// The document as `openapi.json` holds it: pretty-printed, with a final newline.
pub fn pretty(endpoints: &[Endpoint]) -> String {
    let mut text = serde_json::to_string_pretty(&document(endpoints)).unwrap_or_default();
    text.push('\n');
    text
}

/// Links each `POST /things` answer (201 with an `id`) to the operations on `/things/{thing_id}`,
/// so a client, or a stateful fuzzer, can follow a created resource to reading, changing and
/// deleting it.
fn link_created_resources(paths: &mut Map<String, Value>) {
    // (collection, item path, the item's parameter), e.g. ("/accounts", "/accounts/{account_id}", "account_id").
    let item_paths: Vec<(String, String, String)> = paths
        .keys()
        .filter_map(|path| {
            let (collection, last) = path.rsplit_once('/')?;
            let parameter = last.strip_prefix('{')?.strip_suffix('}')?;
            Some((collection.to_owned(), path.clone(), parameter.to_owned()))
        })
        .collect();
    for (collection, item_path, parameter) in item_paths {
        let targets: Vec<String> = paths[&item_path]
            .as_object()
            .map(|ops| {
                ops.values()
                    .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let Some(created) = paths
            .get_mut(&collection)
            .and_then(|ops| ops.get_mut("post"))
            .and_then(|post| post["responses"].get_mut("201"))
        else {
            continue;
        };
        let links: Map<String, Value> = targets
            .into_iter()
            .map(|operation_id| {
                let link = json!({
                    "operationId": operation_id,
                    "parameters": { parameter.as_str(): "$response.body#/id" },
                });
                (operation_id, link)
            })
            .collect();
        created["links"] = Value::Object(links);
    }
}
