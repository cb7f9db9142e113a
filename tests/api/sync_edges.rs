//! Delta reads at their edges: knowledge from the future or malformed (422 on every list), a
//! multi-page walk that keeps its first page's knowledge, and concurrent writes to one household
//! (both legs of a transfer at once) all succeeding, stamped, and consistent.

use harness::TestApp;
use harness::app::{access_token, json_request};
use serde_json::{Value, json};

use crate::sync::{LISTS, Writer, get, list};

#[tokio::test]
async fn knowledge_from_the_future_or_malformed_is_422_on_every_list() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let household = get(&app, &ada, "/household", &[]).await;
    let ahead = (household.body["server_knowledge"].as_i64().unwrap() + 1).to_string();
    for (name, path, _, _) in LISTS {
        for value in [ahead.as_str(), "-1", "abc", "1.5"] {
            let answer = list(&app, &ada, path, &[("last_knowledge_of_server", value)]).await;
            assert_eq!(answer.status, 422, "{name} with {value}: {:?}", answer.body);
            assert_eq!(answer.body["errors"][0]["field"], "last_knowledge_of_server");
        }
    }
}

#[tokio::test]
async fn every_page_of_one_walk_answers_the_knowledge_of_its_first_page() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let writer = Writer {
        app: &app,
        session: &ada,
    };
    let checking = writer.account("Checking", "checking").await;
    for day in 1..=4 {
        writer
            .create(
                &functions::registry::TRANSACTIONS_CREATE,
                "/transactions",
                json!({"account_id": checking, "date": format!("2026-11-0{day}"), "amount": -day}),
            )
            .await;
    }
    let first = get(&app, &ada, "/transactions", &[("limit", "2")]).await;
    let knowledge = first.body["server_knowledge"].as_i64().unwrap();
    let late = writer
        .create(
            &functions::registry::TRANSACTIONS_CREATE,
            "/transactions",
            json!({"account_id": checking, "date": "2026-10-01", "amount": -99}),
        )
        .await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = get(
        &app,
        &ada,
        "/transactions",
        &[("limit", "2"), ("cursor", &cursor)],
    )
    .await;
    assert_eq!(
        second.body["server_knowledge"], knowledge,
        "the walk's knowledge, not the newest"
    );
    let delta = get(
        &app,
        &ada,
        "/transactions",
        &[("last_knowledge_of_server", &knowledge.to_string())],
    )
    .await;
    let ids: Vec<&str> = delta.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [late.as_str()],
        "the next delta brings what was written during the walk"
    );
}

#[tokio::test]
async fn concurrent_writes_in_one_household_all_succeed_and_are_all_stamped() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let writer = Writer {
        app: &app,
        session: &ada,
    };
    let checking = writer.account("Checking", "checking").await;
    let savings = writer.account("Savings", "savings").await;
    let leg = writer
        .create(&functions::registry::TRANSACTIONS_CREATE, "/transactions",
                json!({"account_id": checking, "date": "2026-11-01", "amount": -10_000, "transfer_account_id": savings}))
        .await;
    let before = get(&app, &ada, "/household", &[]).await.body["server_knowledge"]
        .as_i64()
        .unwrap();
    let other = get(&app, &ada, "/transactions", &[]).await.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] != json!(leg))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = |id: &str, body: Value| {
        let request = json_request(
            "PATCH",
            &format!("/transactions/{id}"),
            &body,
            Some(access_token(&ada)),
        );
        app.send(&functions::registry::TRANSACTIONS_UPDATE, request)
    };
    let create = |amount: i64| {
        let body = json!({"account_id": savings, "date": "2026-11-02", "amount": amount});
        app.send(
            &functions::registry::TRANSACTIONS_CREATE,
            json_request("POST", "/transactions", &body, Some(access_token(&ada))),
        )
    };
    // Both legs of one transfer edited at once (each edit writes both), beside other writes.
    let answers = tokio::join!(
        patch(&leg, json!({"amount": -20_000})),
        patch(&other, json!({"amount": 30_000})),
        patch(&leg, json!({"memo": "rent"})),
        create(-1),
        create(-2),
        patch(&other, json!({"date": "2026-11-03"})),
    );
    let statuses = [
        answers.0.status,
        answers.1.status,
        answers.2.status,
        answers.3.status,
        answers.4.status,
        answers.5.status,
    ];
    assert!(statuses.iter().all(|s| *s < 300), "{statuses:?}");
    let delta = get(
        &app,
        &ada,
        "/transactions",
        &[("last_knowledge_of_server", &before.to_string())],
    )
    .await;
    assert_eq!(
        delta.body["transactions"].as_array().unwrap().len(),
        4,
        "both legs and the two new ones"
    );
    let legs: i64 = delta.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["transfer_transaction_id"].is_null())
        .map(|t| t["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(legs, 0, "the legs still cancel out");
}
