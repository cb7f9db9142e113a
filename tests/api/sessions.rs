//! Sessions end when they end: after logout, a reused refresh token, a password change or the
//! session's absolute end, the session's access token is refused by the next request, checked in
//! the statement each request runs anyway (no extra Data API call).

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request};
use serde_json::{Value, json};

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    let answer = app
        .post_login(&json!({"email": email, "password": password}))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

/// `GET /me`, `GET /household` and a household write, each with `session`'s access token.
async fn statuses(app: &TestApp, session: &Value) -> [u16; 3] {
    let me = app.get_me(Some(access_token(session))).await.status;
    let household = app
        .send(
            &functions::registry::HOUSEHOLD_GET,
            bearer_request("GET", "/household", session),
        )
        .await
        .status;
    let write = app
        .send(
            &functions::registry::PAYEES_CREATE,
            json_request(
                "POST",
                "/payees",
                &json!({"name": format!("Shop {}", rand_suffix())}),
                Some(access_token(session)),
            ),
        )
        .await
        .status;
    [me, household, write]
}

/// A payee name not used before in the test.
fn rand_suffix() -> String {
    shared::domain::PayeeId::new().to_string()
}

#[tokio::test]
async fn an_access_token_stops_working_right_after_logout_at_no_extra_call() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let phone = login(&app, "ada@example.com", "correct horse battery").await;
    assert_eq!(statuses(&app, &ada).await, [200, 200, 201]);
    app.reset_calls();
    let _ = app.get_me(Some(access_token(&ada))).await;
    assert_eq!(app.calls(), 1, "the session check is part of the one statement");

    let out = app
        .post_logout(&json!({"refresh_token": ada["refresh_token"]}))
        .await;
    assert_eq!(out.status, 204);
    assert_eq!(
        statuses(&app, &ada).await,
        [401, 401, 401],
        "the logged-out session"
    );
    assert_eq!(
        statuses(&app, &phone).await,
        [200, 200, 201],
        "another session goes on"
    );

    let everywhere = json!({"refresh_token": phone["refresh_token"], "everywhere": true});
    let third = login(&app, "ada@example.com", "correct horse battery").await;
    assert_eq!(app.post_logout(&everywhere).await.status, 204);
    for session in [&phone, &third] {
        assert_eq!(statuses(&app, session).await, [401, 401, 401]);
        let refresh = app
            .post_refresh(&json!({"refresh_token": session["refresh_token"]}))
            .await;
        assert_eq!(refresh.status, 401);
    }
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_sessions_access_tokens_too() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let rotated = app
        .post_refresh(&json!({"refresh_token": ada["refresh_token"]}))
        .await;
    assert_eq!(rotated.status, 200);
    assert_eq!(statuses(&app, &rotated.body).await, [200, 200, 201]);
    // The first token again: a leak. The whole session ends, its newest access token included.
    let reuse = app
        .post_refresh(&json!({"refresh_token": ada["refresh_token"]}))
        .await;
    assert_eq!(reuse.status, 401);
    assert_eq!(statuses(&app, &rotated.body).await, [401, 401, 401]);
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session_and_keeps_this_one() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let laptop = login(&app, "ada@example.com", "correct horse battery").await;
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let send = async |session: &Value, body: &Value| {
        app.send(
            &functions::registry::AUTH_PASSWORD,
            json_request("POST", "/auth/password", body, Some(access_token(session))),
        )
        .await
    };

    let wrong = send(&ada, &change("not my password at all", "a brand new passphrase")).await;
    assert_eq!(
        (wrong.status, wrong.invalid_fields()),
        (422, vec!["current_password"])
    );
    let short = send(&ada, &change("correct horse battery", "short")).await;
    assert_eq!(
        (short.status, short.invalid_fields()),
        (422, vec!["new_password"])
    );

    app.reset_calls();
    let changed = send(&ada, &change("correct horse battery", "a brand new passphrase")).await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    assert_eq!(app.calls(), 2, "read the hash, then store the new one");
    assert_eq!(
        statuses(&app, &ada).await,
        [200, 200, 201],
        "this session goes on"
    );
    assert_eq!(
        statuses(&app, &laptop).await,
        [401, 401, 401],
        "every other one ends"
    );
    let old = app
        .post_login(&json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .await;
    assert_eq!(old.status, 401);
    login(&app, "ada@example.com", "a brand new passphrase").await;
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_is_refreshed() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    // A session that began long ago: its end is now, whatever its newest token says.
    app.api
        .db()
        .execute(
            "UPDATE refresh_tokens SET session_expires_at = now() + interval '1 second'",
            vec![],
        )
        .await
        .unwrap();
    let refreshed = app
        .post_refresh(&json!({"refresh_token": ada["refresh_token"]}))
        .await;
    assert_eq!(refreshed.status, 200);
    let expiry = app
        .api
        .db()
        .execute(
            "SELECT expires_at <= session_expires_at FROM refresh_tokens WHERE revoked_at IS NULL",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        expiry.first().unwrap().get::<bool>(0).unwrap(),
        "capped at the session's end"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(statuses(&app, &refreshed.body).await, [401, 401, 401]);
    let again = app
        .post_refresh(&json!({"refresh_token": refreshed.body["refresh_token"]}))
        .await;
    assert_eq!(again.status, 401);
}

#[tokio::test]
async fn ten_wrong_current_passwords_lock_password_changes_for_the_account() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let send = async |current: &str| {
        let body = json!({"current_password": current, "new_password": "a brand new passphrase"});
        app.send(
            &functions::registry::AUTH_PASSWORD,
            json_request("POST", "/auth/password", &body, Some(access_token(&ada))),
        )
        .await
    };
    for _ in 0..10 {
        assert_eq!(send("a wrong guess at it").await.status, 422);
    }
    app.reset_calls();
    let locked = send("correct horse battery").await;
    assert_eq!(
        (locked.status, app.calls()),
        (429, 1),
        "locked before any hashing"
    );
    assert!(locked.header("retry-after").is_some());
}

#[tokio::test]
async fn logging_out_everywhere_needs_a_live_refresh_token() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let rotated = app
        .post_refresh(&json!({"refresh_token": ada["refresh_token"]}))
        .await;
    assert_eq!(rotated.status, 200);
    let phone = login(&app, "ada@example.com", "correct horse battery").await;
    // An old, rotated-out token (from a backup, a log): it ends nothing beyond its own session.
    let stale = json!({"refresh_token": ada["refresh_token"], "everywhere": true});
    assert_eq!(app.post_logout(&stale).await.status, 204);
    assert_eq!(
        statuses(&app, &phone).await,
        [200, 200, 201],
        "another session goes on"
    );
}
