//! The OpenAPI 3.1 document, generated from the endpoints' own [`Doc`]s (which name the handlers'
//! request and response types; utoipa derives their schemas), and the two public endpoints that
//! serve it: `GET /openapi.json` and `GET /docs`. `cargo xtask openapi` writes it to
//! `openapi.json`; a test keeps that file, [`crate::ENDPOINTS`] and this document in step.

pub mod doc;
pub mod docs;
pub mod json;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

pub use doc::Doc;

use crate::{accounts, auth, categories, household, invitations, me, months, payees, transactions};

/// Every endpoint's documentation, in the order of [`crate::ENDPOINTS`].
pub const DOCS: &[fn() -> Doc] = &[
    auth::register::doc,
    auth::login::doc,
    auth::refresh::doc,
    auth::logout::doc,
    auth::password::doc,
    me::doc,
    household::get::doc,
    household::update::doc,
    household::member_role::doc,
    household::member_remove::doc,
    invitations::create::doc,
    invitations::list::doc,
    invitations::revoke::doc,
    invitations::accept::doc,
    accounts::list::doc,
    accounts::create::doc,
    accounts::get::doc,
    accounts::update::doc,
    accounts::delete::doc,
    payees::list::doc,
    payees::create::doc,
    payees::get::doc,
    payees::update::doc,
    payees::delete::doc,
    categories::groups::doc,
    categories::group_create::doc,
    categories::group_update::doc,
    categories::group_delete::doc,
    categories::create::doc,
    categories::get::doc,
    categories::update::doc,
    categories::delete::doc,
    months::list::doc,
    months::get::doc,
    months::assign::doc,
    transactions::list::doc,
    transactions::create::doc,
    transactions::get::doc,
    transactions::update::doc,
    transactions::delete::doc,
    json::doc,
    docs::doc,
];

const DESCRIPTION: &str = "A household budgeting API: households with several members, accounts, \
category groups and categories, payees, transactions (transfers, splits, bulk import) and monthly \
envelope budgets.\n\n\
Money is always an integer number of **milliunits** (1.000 = `1000`), never a float. Ids are \
UUIDv7. Dates are `YYYY-MM-DD`, months `YYYY-MM`. Errors are RFC 9457 problem documents \
(`application/problem+json`); a 422 lists every invalid field in `errors`. Resources carry an \
`ETag`; send it back as `If-Match` to write only if nobody changed the resource meanwhile.\n\n\
Sign in with `POST /auth/register` or `POST /auth/login`, then send the `access_token` as \
`Authorization: Bearer …`.";

/// The whole document. Each endpoint's operation id is its binary's name.
///
/// # Panics
/// When an endpoint in [`DOCS`] is not in [`crate::ENDPOINTS`], or two types share a schema name
/// (a test runs this).
pub fn document() -> Value {
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut schemas: BTreeMap<String, Value> = BTreeMap::new();
    for describe in DOCS {
        let doc = describe();
        let route = doc.route;
        let name = crate::ENDPOINTS
            .iter()
            .find(|(_, r)| *r == route)
            .map(|(name, _)| *name)
            .unwrap_or_else(|| {
                panic!(
                    "{} {} is documented but not in ENDPOINTS",
                    route.method, route.path
                )
            });
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
pub fn pretty() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
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
