//! Failed logins are throttled per email and source address, and per source address: a stranger
//! cannot lock an owner out from elsewhere, a guesser cannot make the service hash without bound,
//! and an unknown email costs what a known one costs.

use harness::TestApp;
use harness::app::{event, request};
use serde_json::{Value, json};

/// `POST /auth/login` as API Gateway delivers it from `address`.
async fn login_from(app: &TestApp, address: &str, body: &Value) -> harness::TestResponse {
    let body = body.to_string();
    let mut event = event(
        "POST",
        "/auth/login",
        &[("content-type", "application/json")],
        Some(&body),
    );
    event["requestContext"]["http"]["sourceIp"] = json!(address);
    app.send_login(request(&event)).await
}

const WRONG: &str = "incorrect horse battery";
const RIGHT: &str = "correct horse battery";

fn credentials(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

#[tokio::test]
async fn ten_failures_lock_the_email_from_that_address_only() {
    let app = TestApp::spawn().await.unwrap();
    app.register("ada@example.com").await;
    let (stranger, owner) = ("198.51.100.66", "192.0.2.10");
    let ada = |password| credentials("ada@example.com", password);

    for _ in 0..9 {
        assert_eq!(login_from(&app, stranger, &ada(WRONG)).await.status, 401);
    }
    assert_eq!(
        login_from(&app, stranger, &ada(RIGHT)).await.status,
        200,
        "nine do not lock"
    );
    for _ in 0..9 {
        assert_eq!(login_from(&app, stranger, &ada(WRONG)).await.status, 401);
    }
    assert_eq!(
        login_from(&app, stranger, &ada(RIGHT)).await.status,
        200,
        "a success resets them"
    );

    for _ in 0..10 {
        assert_eq!(login_from(&app, stranger, &ada(WRONG)).await.status, 401);
    }
    app.reset_calls();
    let locked = login_from(&app, stranger, &ada(RIGHT)).await;
    assert_eq!(
        locked.status, 429,
        "locked from there, even with the right password"
    );
    assert_eq!(app.calls(), 1, "refused before any hashing");
    let retry_after: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((890..=900).contains(&retry_after), "{retry_after}");

    assert_eq!(
        login_from(&app, owner, &ada(RIGHT)).await.status,
        200,
        "the owner logs in from elsewhere"
    );
    app.api
        .db()
        .execute(
            "UPDATE login_throttles SET locked_until = now() - interval '1 second'",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        login_from(&app, stranger, &ada(RIGHT)).await.status,
        200,
        "the lock expires"
    );
}

#[tokio::test]
async fn an_address_with_a_hundred_failures_is_refused_before_hashing_whatever_the_email() {
    let app = TestApp::spawn().await.unwrap();
    app.register("ada@example.com").await;
    let guesser = "198.51.100.77";
    for n in 0..100 {
        let guess = credentials(&format!("guess-{n}@example.com"), WRONG);
        assert_eq!(login_from(&app, guesser, &guess).await.status, 401, "guess {n}");
    }
    app.reset_calls();
    let refused = login_from(&app, guesser, &credentials("ada@example.com", RIGHT)).await;
    assert_eq!((refused.status, app.calls()), (429, 1));
    let elsewhere = login_from(&app, "192.0.2.10", &credentials("ada@example.com", RIGHT)).await;
    assert_eq!(elsewhere.status, 200);
    let kept: i64 = app
        .api
        .db()
        .execute("SELECT count(*) FROM login_throttles", vec![])
        .await
        .unwrap()
        .first()
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(
        kept, 101,
        "a row per email from that address, and one for the address"
    );
    let clear: i64 = app
        .api
        .db()
        .execute(
            "SELECT count(*) FROM login_throttles WHERE position(convert_to('guess', 'UTF8') IN id) > 0",
            vec![],
        )
        .await
        .unwrap()
        .first()
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(clear, 0, "no email or address is kept in clear");
}

#[tokio::test]
async fn an_unknown_email_costs_the_same_calls_as_a_wrong_password() {
    let app = TestApp::spawn().await.unwrap();
    app.register("ada@example.com").await;
    let mut answers = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        app.reset_calls();
        let answer = login_from(&app, "192.0.2.10", &credentials(email, WRONG)).await;
        answers.push((answer.status, app.calls(), answer.body["detail"].clone()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        (answers[0].0, answers[0].1),
        (401, 2),
        "the lookup, then the failure counted"
    );
}
