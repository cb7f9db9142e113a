//! Faults in the middle of a request (docs/retries.md): a terminated backend's statement is run
//! again, a statement timeout answers 503 and the keyed retry applies the write once, and the
//! retry of a keyed write whose answer was lost after it committed answers what it did.

use data_api_local::{ErrorKind, Fault, Operation};
use harness::TestApp;
use harness::app::{access_token, json_request};
use lambda_http::http::HeaderValue;
use serde_json::{Value, json};

async fn post_payee(app: &TestApp, session: &Value, name: &str, key: &str) -> harness::TestResponse {
    let mut request = json_request(
        "POST",
        "/payees",
        &json!({"name": name}),
        Some(access_token(session)),
    );
    request
        .headers_mut()
        .insert("idempotency-key", HeaderValue::from_str(key).unwrap());
    app.send(&functions::registry::PAYEES_CREATE, request).await
}

async fn payees_named(app: &TestApp, name: &str) -> i64 {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT count(*) FROM payees WHERE name = :name",
            vec![shared::db::param("name", name)],
        )
        .await
        .unwrap();
    rows.first().unwrap().get(0).unwrap()
}

#[tokio::test]
async fn a_statement_whose_backend_is_terminated_is_run_again() {
    let app = TestApp::spawn().await.unwrap();
    let direct = app.api.database.connect().await.unwrap();
    let db = app.app.db.counting();
    let statement = tokio::spawn({
        let db = db.clone();
        async move { db.execute("SELECT 'survived' FROM pg_sleep(0.4)", vec![]).await }
    });
    // Terminate the backend once it runs the statement, as a failover or an administrator would.
    let mut terminated = false;
    for _ in 0..200 {
        let rows = direct
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE query LIKE 'SELECT ''survived''%' AND state = 'active' AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap();
        if rows.iter().any(|row| row.get::<_, bool>(0)) {
            terminated = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(terminated, "the statement was never seen running");
    let rows = statement.await.unwrap().expect("run again on another connection");
    assert_eq!(rows.first().unwrap().get::<String>(0).unwrap(), "survived");
    assert_eq!(db.calls(), 2, "the terminated call, then the one that answered");
}

#[tokio::test]
async fn a_statement_timeout_answers_503_and_the_keyed_retry_writes_once() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    app.api
        .emulator
        .service
        .inject(Fault::new(ErrorKind::StatementTimeoutException, 1));
    let first = post_payee(&app, &ada, "Bakery", "timed-out-once").await;
    assert_eq!(first.status, 503, "{:?}", first.body);
    assert_eq!(first.header("retry-after"), Some("1"));
    assert_eq!(first.body["type"], "/problems/interrupted");
    assert_eq!(payees_named(&app, "Bakery").await, 0);

    let retried = post_payee(&app, &ada, "Bakery", "timed-out-once").await;
    assert_eq!(retried.status, 201, "{:?}", retried.body);
    let again = post_payee(&app, &ada, "Bakery", "timed-out-once").await;
    assert_eq!((again.status, &again.body), (201, &retried.body));
    assert_eq!(payees_named(&app, "Bakery").await, 1);
}

#[tokio::test]
async fn a_keyed_write_whose_answer_was_lost_is_answered_by_its_retry_and_done_once() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    // The write's one call commits, and its answer is lost on the way back.
    app.api.emulator.service.inject(Fault {
        answer_lost: true,
        operations: Some(vec![Operation::ExecuteStatement]),
        ..Fault::new(ErrorKind::InternalServerErrorException, 1)
    });
    let lost = post_payee(&app, &ada, "Bakery", "answer-lost").await;
    assert_eq!(lost.status, 500, "{:?}", lost.body);
    assert_eq!(payees_named(&app, "Bakery").await, 1, "the write committed");

    // The retry the client makes answers what the write did, from the answer its own statement
    // kept, and does not write again.
    app.reset_calls();
    let retry = post_payee(&app, &ada, "Bakery", "answer-lost").await;
    assert_eq!(app.calls(), 1);
    assert_eq!(retry.status, 201, "{:?}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body["name"], "Bakery");
    assert_eq!(payees_named(&app, "Bakery").await, 1);
    let stored = app
        .api
        .db()
        .execute("SELECT id::text FROM payees WHERE name = 'Bakery'", vec![])
        .await
        .unwrap();
    let stored: String = stored.first().unwrap().get(0).unwrap();
    assert_eq!(retry.body["id"], stored.as_str(), "the id the write stored");
}

/// As the release before migration 0006 left a key: its answer kept as a response in
/// `idempotency_keys` (`status` set), or not yet (NULL), and nothing in `idempotency_answers`.
async fn as_kept_before_0006(app: &TestApp, status: Option<i32>, body: &str, age_seconds: i64) {
    let db = app.api.db();
    db.execute("DELETE FROM idempotency_answers", vec![])
        .await
        .unwrap();
    db.execute(
        "UPDATE idempotency_keys SET status = :status, content_type = 'application/json', \
         etag = '\"kept\"', body = :body, created_at = now() - :age * interval '1 second'",
        vec![
            shared::db::param("status", &status),
            shared::db::param("body", body),
            shared::db::param("age", &age_seconds),
        ],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn keys_kept_by_the_release_before_answers_were_kept_in_the_statement_still_hold() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    assert_eq!(post_payee(&app, &ada, "Bakery", "old").await.status, 201);

    // Kept with its answer: repeated as kept, for one call more.
    let kept = r#"{"id":"kept-before-0006","name":"Bakery"}"#;
    as_kept_before_0006(&app, Some(201), kept, 5).await;
    app.reset_calls();
    let repeat = post_payee(&app, &ada, "Bakery", "old").await;
    assert_eq!(app.calls(), 2, "the write statement, then the kept response");
    assert_eq!((repeat.status, repeat.header("etag")), (201, Some("\"kept\"")));
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_eq!(repeat.body["id"], "kept-before-0006");
    // Another request with the key is still refused before anything is read.
    let other = post_payee(&app, &ada, "Corner Shop", "old").await;
    assert_eq!(other.status, 422, "{:?}", other.body);

    // Claimed by that release and not answered yet: running for as long as a function may run,
    // then ended without an answer. Nothing is written again either way.
    as_kept_before_0006(&app, None, "", 5).await;
    let running = post_payee(&app, &ada, "Bakery", "old").await;
    assert_eq!(running.status, 409);
    assert!(running.body["detail"].as_str().unwrap().contains("still running"));
    as_kept_before_0006(&app, None, "", 31).await;
    let ended = post_payee(&app, &ada, "Bakery", "old").await;
    assert_eq!(ended.status, 409);
    let detail = ended.body["detail"].as_str().unwrap();
    assert!(detail.contains("ended without an answer"), "{detail}");
    assert_eq!(payees_named(&app, "Bakery").await, 1);
}
