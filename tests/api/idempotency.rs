//! `Idempotency-Key`: a retry whose first answer was lost changes the database once and answers
//! the same; the same key with another request is 422, duplicates racing the first answer 409 or
//! the kept answer; keys are per household; expired keys are taken over and cleaned up; a key
//! costs no Data API call more: the write and its repeat are one call each.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request};
use lambda_http::Request;
use lambda_http::http::HeaderValue;
use serde_json::{Value, json};

fn keyed(mut request: Request, key: &str) -> Request {
    request
        .headers_mut()
        .insert("idempotency-key", HeaderValue::from_str(key).unwrap());
    request
}

async fn post_transactions(
    app: &TestApp,
    session: &Value,
    body: &Value,
    key: Option<&str>,
) -> harness::TestResponse {
    let mut request = json_request("POST", "/transactions", body, Some(access_token(session)));
    if let Some(key) = key {
        request = keyed(request, key);
    }
    app.send(&functions::registry::TRANSACTIONS_CREATE, request).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let rows = app.api.db().execute(sql, vec![]).await.unwrap();
    rows.first().unwrap().get(0).unwrap()
}

async fn live_transactions(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) FROM transactions WHERE deleted_at IS NULL").await
}

async fn account(app: &TestApp, session: &Value, name: &str) -> String {
    let created = app
        .create_account(session, &json!({"name": name, "kind": "checking"}))
        .await;
    created.body["id"].as_str().unwrap().to_owned()
}

/// A household with one transaction: its owner's session and the transaction's path.
async fn one_transaction(app: &TestApp) -> (Value, String) {
    let ada = app.register("ada@example.com").await;
    let checking = account(app, &ada, "Checking").await;
    let body = json!({"account_id": checking, "date": "2026-11-20", "amount": -1_000});
    let created = post_transactions(app, &ada, &body, None).await;
    let path = format!("/transactions/{}", created.body["id"].as_str().unwrap());
    (ada, path)
}

fn replayed(response: &harness::TestResponse) -> bool {
    response.header("idempotent-replayed") == Some("true")
}

#[tokio::test]
async fn a_retried_create_runs_once_and_answers_the_same_in_one_call() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let body = json!({"account_id": checking, "date": "2026-11-20", "amount": -4_200, "payee_name": "Shop"});

    app.reset_calls();
    let plain = post_transactions(&app, &ada, &body, None).await;
    assert_eq!((plain.status, app.calls()), (201, 1));
    let before = live_transactions(&app).await;

    app.reset_calls();
    let first = post_transactions(&app, &ada, &body, Some("retry-1")).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(app.calls(), 1, "the write keeps its answer in the same statement");
    assert!(!replayed(&first));

    app.reset_calls();
    let retry = post_transactions(&app, &ada, &body, Some("retry-1")).await;
    assert_eq!(app.calls(), 1, "the refused claim answers the kept rows");
    assert_eq!(retry.status, 201);
    assert!(replayed(&retry));
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("etag"), first.header("etag"));
    assert_eq!(live_transactions(&app).await, before + 1);
}

#[tokio::test]
async fn a_retried_bulk_create_and_transfer_change_the_database_once() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let savings = account(&app, &ada, "Savings").await;
    let rows: Vec<Value> = (1..=300)
        .map(|i| json!({"account_id": checking, "date": "2026-11-20", "amount": -i * 1_000}))
        .collect();
    let bulk = json!({"transactions": rows});
    let transfer = json!({"account_id": checking, "date": "2026-11-21", "amount": -50_000, "transfer_account_id": savings});

    let first_bulk = post_transactions(&app, &ada, &bulk, Some("bulk")).await;
    assert_eq!(first_bulk.status, 201, "{:?}", first_bulk.body);
    let first_transfer = post_transactions(&app, &ada, &transfer, Some("transfer")).await;
    assert_eq!(first_transfer.status, 201, "{:?}", first_transfer.body);
    let after_first = live_transactions(&app).await;
    assert_eq!(after_first, 300 + 2);
    let answer_bytes = first_bulk.body.to_string().len();
    assert!(
        answer_bytes > 64 * 1024,
        "kept in several parts: {answer_bytes} bytes"
    );

    let retried_bulk = post_transactions(&app, &ada, &bulk, Some("bulk")).await;
    let retried_transfer = post_transactions(&app, &ada, &transfer, Some("transfer")).await;
    assert_eq!(retried_bulk.body, first_bulk.body);
    assert_eq!(retried_transfer.body, first_transfer.body);
    assert!(replayed(&retried_bulk) && replayed(&retried_transfer));
    assert_eq!(live_transactions(&app).await, after_first);
    let sum = count(
        &app,
        "SELECT sum(amount)::bigint FROM transactions WHERE deleted_at IS NULL",
    )
    .await;
    let expected: i64 = -(1..=300).map(|i| i * 1_000).sum::<i64>();
    assert_eq!(sum, expected, "the transfer's two legs cancel out");
}

#[tokio::test]
async fn a_retried_patch_is_not_applied_again_over_a_later_change() {
    let app = TestApp::spawn().await.unwrap();
    let (ada, path) = one_transaction(&app).await;
    let patch = |memo: &str, key: Option<&str>| {
        let request = json_request("PATCH", &path, &json!({"memo": memo}), Some(access_token(&ada)));
        match key {
            Some(key) => keyed(request, key),
            None => request,
        }
    };

    let first = app
        .send(
            &functions::registry::TRANSACTIONS_UPDATE,
            patch("first", Some("edit-1")),
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let later = app
        .send(&functions::registry::TRANSACTIONS_UPDATE, patch("later", None))
        .await;
    assert_eq!(later.status, 200);
    let retry = app
        .send(
            &functions::registry::TRANSACTIONS_UPDATE,
            patch("first", Some("edit-1")),
        )
        .await;
    assert_eq!((retry.status, retry.body["memo"].clone()), (200, json!("first")));
    assert!(replayed(&retry));
    let stored = app
        .send(
            &functions::registry::TRANSACTIONS_GET,
            bearer_request("GET", &path, &ada),
        )
        .await;
    assert_eq!(stored.body["memo"], "later", "the retry did not run again");
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let body = |amount: i64| json!({"account_id": checking, "date": "2026-11-20", "amount": amount});
    assert_eq!(
        post_transactions(&app, &ada, &body(-1), Some("k")).await.status,
        201
    );
    let before = live_transactions(&app).await;
    let other = post_transactions(&app, &ada, &body(-2), Some("k")).await;
    assert_eq!(other.status, 422, "{:?}", other.body);
    assert_eq!(other.body["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(live_transactions(&app).await, before);
}

#[tokio::test]
async fn concurrent_duplicates_write_once_and_answer_the_first_answer_or_409() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let body = json!({"account_id": checking, "date": "2026-11-20", "amount": -7_000});
    let before = live_transactions(&app).await;
    let send = || post_transactions(&app, &ada, &body, Some("racing"));
    let (a, b, c, d) = tokio::join!(send(), send(), send(), send());
    let answers = [a, b, c, d];
    let created: Vec<_> = answers.iter().filter(|r| r.status == 201).collect();
    assert!(
        !created.is_empty(),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(created.iter().all(|r| r.body == created[0].body));
    assert!(answers.iter().all(|r| r.status == 201 || r.status == 409));
    assert_eq!(
        answers.iter().filter(|r| r.status == 201 && !replayed(r)).count(),
        1
    );
    assert_eq!(live_transactions(&app).await, before + 1);
}

#[tokio::test]
async fn households_using_the_same_key_do_not_collide() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ada_account = account(&app, &ada, "Checking").await;
    let bob_account = account(&app, &bob, "Checking").await;
    let ada_created = post_transactions(
        &app,
        &ada,
        &json!({"account_id": ada_account, "date": "2026-11-20", "amount": -1}),
        Some("shared-key"),
    )
    .await;
    let bob_created = post_transactions(
        &app,
        &bob,
        &json!({"account_id": bob_account, "date": "2026-11-20", "amount": -1}),
        Some("shared-key"),
    )
    .await;
    assert_eq!((ada_created.status, bob_created.status), (201, 201));
    assert!(!replayed(&bob_created));
    assert_ne!(ada_created.body["id"], bob_created.body["id"]);
}

#[tokio::test]
async fn malformed_keys_are_refused_before_anything_runs() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let body = json!({"account_id": checking, "date": "2026-11-20", "amount": -1});
    let before = live_transactions(&app).await;
    let too_long = "k".repeat(256);
    for key in ["with space", "tab\there", too_long.as_str(), "ünïcode"] {
        let mut request = json_request("POST", "/transactions", &body, Some(access_token(&ada)));
        request.headers_mut().insert(
            "idempotency-key",
            HeaderValue::from_bytes(key.as_bytes()).unwrap(),
        );
        app.reset_calls();
        let refused = app.send(&functions::registry::TRANSACTIONS_CREATE, request).await;
        assert_eq!(refused.status, 422, "{key}: {:?}", refused.body);
        assert_eq!(app.calls(), 0);
    }
    let longest = "k".repeat(255);
    assert_eq!(
        post_transactions(&app, &ada, &body, Some(&longest)).await.status,
        201
    );
    assert_eq!(live_transactions(&app).await, before + 1);
}

#[tokio::test]
async fn expired_keys_run_again_and_are_cleaned_up_by_the_next_keyed_write() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking").await;
    let body = json!({"account_id": checking, "date": "2026-11-20", "amount": -1});
    assert_eq!(
        post_transactions(&app, &ada, &body, Some("old")).await.status,
        201
    );
    assert_eq!(
        post_transactions(&app, &ada, &body, Some("older")).await.status,
        201
    );
    app.api
        .db()
        .execute(
            "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'",
            vec![],
        )
        .await
        .unwrap();
    app.api
        .db()
        .execute(
            "UPDATE idempotency_answers SET expires_at = now() - interval '1 second'",
            vec![],
        )
        .await
        .unwrap();
    let before = live_transactions(&app).await;

    let again = post_transactions(&app, &ada, &body, Some("old")).await;
    assert_eq!(again.status, 201);
    assert!(!replayed(&again), "an expired key is a new request");
    assert_eq!(live_transactions(&app).await, before + 1);
    let keys = count(&app, "SELECT count(*) FROM idempotency_keys").await;
    assert_eq!(
        keys, 1,
        "'older' expired and was deleted when 'old' was kept again"
    );
    let answers = count(&app, "SELECT count(*) FROM idempotency_answers").await;
    assert_eq!(answers, 1, "only the answer 'old' has now is left");
    let repeat = post_transactions(&app, &ada, &body, Some("old")).await;
    assert!(replayed(&repeat), "{:?}", repeat.body);
    assert_eq!(repeat.body, again.body, "the new answer, not the expired one");
}

#[tokio::test]
async fn a_retried_delete_answers_204_again() {
    let app = TestApp::spawn().await.unwrap();
    let (ada, path) = one_transaction(&app).await;
    let delete = || keyed(bearer_request("DELETE", &path, &ada), "delete-it");
    let first = app
        .send(&functions::registry::TRANSACTIONS_DELETE, delete())
        .await;
    let retry = app
        .send(&functions::registry::TRANSACTIONS_DELETE, delete())
        .await;
    assert_eq!((first.status, retry.status), (204, 204));
    assert!(replayed(&retry));
    assert_eq!(live_transactions(&app).await, 0);
}

#[tokio::test]
async fn a_kept_answer_is_not_given_to_a_member_who_left() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let eve = app.join(&ada, "eve@example.com", "member").await;
    let payee = || {
        let request = json_request(
            "POST",
            "/payees",
            &json!({"name": "Bakery"}),
            Some(access_token(&eve)),
        );
        keyed(request, "new-payee")
    };
    let first = app.send(&functions::registry::PAYEES_CREATE, payee()).await;
    assert_eq!(first.status, 201, "{:?}", first.body);

    let member = eve["user_id"].as_str().unwrap();
    let removed = app
        .send(
            &functions::registry::HOUSEHOLD_MEMBER_REMOVE,
            bearer_request("DELETE", &format!("/household/members/{member}"), &ada),
        )
        .await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    let retry = app.send(&functions::registry::PAYEES_CREATE, payee()).await;
    assert_eq!(retry.status, 401, "{:?}", retry.body);
    assert!(!replayed(&retry));
}
