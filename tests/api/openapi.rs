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
        committed == functions::openapi::pretty(),
        "openapi.json differs from what the endpoints generate: run `cargo xtask openapi`"
    );
}

#[test]
fn every_endpoint_is_documented_and_nothing_else() {
    let document = functions::openapi::document();
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
        .map(|(_, route)| (route.method.to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(documented, endpoints);
    // Every operation is named after its binary, and every reference resolves.
    let text = document.to_string();
    for (name, _) in functions::ENDPOINTS {
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
            functions::openapi::json::respond,
            request(&event("GET", "/openapi.json", &[], None)),
        )
        .await;
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("application/json"));
    assert_eq!(served.body, functions::openapi::document());
    assert_eq!(served.body["openapi"], "3.1.0");

    let page = functions::openapi::docs::respond(&app.app, request(&event("GET", "/docs", &[], None)))
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
