//! The OpenAPI document: the committed `openapi.json` is what the code generates, it documents
//! exactly the endpoints there are, and the two public endpoints serve it without touching the
//! database.

use std::collections::BTreeSet;

use harness::TestApp;
use harness::app::{event, request};

#[test]
fn the_committed_document_is_the_generated_one() {
    let path = harness::repository::root().unwrap().join("openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == functions::openapi::pretty(functions::ENDPOINTS),
        "openapi.json differs from what the endpoints generate: run `cargo xtask openapi`"
    );
}

#[test]
fn every_endpoint_is_documented_and_nothing_else() {
    let document = functions::openapi::document(functions::ENDPOINTS);
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let endpoints: BTreeSet<(String, String)> = functions::ENDPOINTS
        .iter()
        .map(|e| (e.route.method.to_owned(), e.route.path.to_owned()))
        .collect();
    assert_eq!(documented, endpoints);
    // Every operation is named after its binary, and every reference resolves.
    let text = document.to_string();
    for functions::Endpoint { name, .. } in functions::ENDPOINTS {
        assert!(text.contains(&format!("\"operationId\":\"{name}\"")), "{name}");
    }
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "{name} is referred to but not defined"
        );
    }
}

#[tokio::test]
async fn the_document_and_its_page_are_public_and_need_no_database() {
    let app = TestApp::spawn().await.unwrap();
    app.reset_calls();
    let served = app
        .send(
            &functions::registry::OPENAPI,
            request(&event("GET", "/openapi.json", &[], None)),
        )
        .await;
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("application/json"));
    assert_eq!(served.body, functions::openapi::document(functions::ENDPOINTS));
    assert_eq!(served.body["openapi"], "3.1.0");

    let page = functions::registry::DOCS
        .call(&app.app, request(&event("GET", "/docs", &[], None)))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    let html = match page.body() {
        lambda_http::Body::Text(text) => text.clone(),
        other => panic!("not text: {other:?}"),
    };
    assert!(html.contains("spec-url=\"openapi.json\""));
    assert!(html.contains("integrity=\"sha384-"));
    assert_eq!(app.calls(), 0);
}

// What the fuzzer found, kept found.

#[tokio::test]
async fn a_nul_character_in_any_text_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let refused = app
        .send_json(
            &functions::registry::PAYEES_CREATE,
            "POST",
            "/payees",
            &ada,
            &serde_json::json!({"name": "Corner\u{0}Shop"}),
        )
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.invalid_fields(), ["name"]);
    let checking = app
        .create_account(&ada, &serde_json::json!({"name": "Checking", "kind": "checking"}))
        .await;
    let bulk = serde_json::json!({"transactions": [
        {"account_id": checking.body["id"], "date": "2026-11-01", "amount": -1},
        {"account_id": checking.body["id"], "date": "2026-11-01", "amount": -1, "memo": "a\u{0}b"},
    ]});
    let refused = app
        .send_json(
            &functions::registry::TRANSACTIONS_CREATE,
            "POST",
            "/transactions",
            &ada,
            &bulk,
        )
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.invalid_fields(), ["transactions[1].memo"]);
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_a_400_as_api_gateway_delivers_it() {
    use base64::Engine;
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let token = format!("Bearer {}", harness::app::access_token(&ada));
    let mut binary = event(
        "POST",
        "/payees",
        &[("content-type", "application/json"), ("authorization", &token)],
        None,
    );
    // API Gateway passes bytes that are not UTF-8 base64-encoded.
    binary["body"] = base64::engine::general_purpose::STANDARD
        .encode(b"\xff\xfe{\"name\"")
        .into();
    binary["isBase64Encoded"] = true.into();
    let refused = app
        .send(&functions::registry::PAYEES_CREATE, request(&binary))
        .await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    assert_eq!(refused.header("content-type"), Some("application/problem+json"));
}
