//! An `Idempotency-Key` belongs to the member who sent it: its kept answer is repeated only to
//! them, only while they still have the role they sent it with; another member's request with
//! the same key is refused and changes nothing (issue: a member became owner by replaying an
//! owner's invitation key).

use harness::TestApp;
use harness::app::{access_token, json_request};
use lambda_http::http::HeaderValue;
use serde_json::{Value, json};

/// The writes tried here, each through its endpoint's `respond`.
#[derive(Clone, Copy, Debug)]
enum Write {
    Invite,
    Create,
    Edit,
    Assign,
    Delete,
}

async fn keyed(
    app: &TestApp,
    write: Write,
    method: &str,
    path: &str,
    session: &Value,
    body: &Value,
    key: &str,
) -> harness::TestResponse {
    let mut request = json_request(method, path, body, Some(access_token(session)));
    request
        .headers_mut()
        .insert("idempotency-key", HeaderValue::from_str(key).unwrap());
    match write {
        Write::Invite => app.send(&functions::registry::INVITATIONS_CREATE, request).await,
        Write::Create => app.send(&functions::registry::TRANSACTIONS_CREATE, request).await,
        Write::Edit => app.send(&functions::registry::TRANSACTIONS_UPDATE, request).await,
        Write::Assign => app.send(&functions::registry::MONTHS_ASSIGN, request).await,
        Write::Delete => app.send(&functions::registry::TRANSACTIONS_DELETE, request).await,
    }
}

/// `POST /household/invitations` with `body` as `session`, keyed with `key`.
async fn post_invitation(app: &TestApp, session: &Value, body: &Value, key: &str) -> harness::TestResponse {
    keyed(
        app,
        Write::Invite,
        "POST",
        "/household/invitations",
        session,
        body,
        key,
    )
    .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let rows = app.api.db().execute(sql, vec![]).await.unwrap();
    rows.first().unwrap().get(0).unwrap()
}

/// Every table a write of these could touch, counted.
const ROWS: &str = "SELECT (SELECT count(*) FROM household_invitations) + (SELECT count(*) FROM accounts) \
    + (SELECT count(*) FROM transactions) + (SELECT count(*) FROM budget_allocations) \
    + (SELECT count(*) FROM payees) + (SELECT count(*) FROM users)";

#[tokio::test]
async fn another_members_request_with_the_same_key_is_refused_for_every_kind_of_write() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.join(&ada, "bob@example.com", "member").await;
    let account = app
        .create_account(&ada, &json!({"name": "Checking", "kind": "checking"}))
        .await;
    let account = account.body["id"].as_str().unwrap().to_owned();
    let category = app.first_category(&ada).await;
    let spend = json!({"account_id": account, "date": "2026-11-20", "amount": -1_000});
    let created = app
        .send(
            &functions::registry::TRANSACTIONS_CREATE,
            json_request("POST", "/transactions", &spend, Some(access_token(&ada))),
        )
        .await;
    let transaction = format!("/transactions/{}", created.body["id"].as_str().unwrap());

    let writes: Vec<(Write, &str, String, Value)> = vec![
        (
            Write::Invite,
            "POST",
            "/household/invitations".into(),
            json!({"email": "eve@example.com", "role": "owner"}),
        ),
        (Write::Create, "POST", "/transactions".into(), spend.clone()),
        (
            Write::Edit,
            "PATCH",
            transaction.clone(),
            json!({"memo": "groceries"}),
        ),
        (
            Write::Assign,
            "PUT",
            format!("/months/2026-11/categories/{category}"),
            json!({"assigned": 5_000}),
        ),
        (Write::Delete, "DELETE", transaction.clone(), json!({})),
    ];
    for (n, (what, method, path, body)) in writes.into_iter().enumerate() {
        let key = format!("shared-key-{n}");
        let first = keyed(&app, what, method, &path, &ada, &body, &key).await;
        assert!(first.status < 300, "{what:?}: {:?}", first.body);
        let again = keyed(&app, what, method, &path, &ada, &body, &key).await;
        assert_eq!(
            (again.status, again.header("idempotent-replayed")),
            (first.status, Some("true")),
            "{what:?}: the sender's retry"
        );

        let before = count(&app, ROWS).await;
        let stolen = keyed(&app, what, method, &path, &bob, &body, &key).await;
        assert_eq!(stolen.status, 409, "{what:?}: {:?}", stolen.body);
        assert_eq!(stolen.header("idempotent-replayed"), None, "{what:?}");
        assert!(
            !stolen.body.to_string().contains("invitation_token"),
            "{what:?}: {:?}",
            stolen.body
        );
        assert_eq!(count(&app, ROWS).await, before, "{what:?}: nothing written");
    }
}

#[tokio::test]
async fn an_owners_kept_answer_is_not_repeated_once_they_are_demoted() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let cy = app.join(&ada, "cy@example.com", "owner").await;
    let invite = json!({"email": "eve@example.com", "role": "owner"});
    let first = post_invitation(&app, &ada, &invite, "invite-1").await;
    assert_eq!(first.status, 201, "{:?}", first.body);

    let demote = json!({"role": "member"});
    let path = format!("/household/members/{}", ada["user_id"].as_str().unwrap());
    let demoted = app
        .send(
            &functions::registry::HOUSEHOLD_MEMBER_ROLE,
            json_request("PATCH", &path, &demote, Some(access_token(&cy))),
        )
        .await;
    assert_eq!(demoted.status, 200, "{:?}", demoted.body);

    let replay = post_invitation(&app, &ada, &invite, "invite-1").await;
    assert_eq!(replay.status, 403, "{:?}", replay.body);
    assert_eq!(replay.header("idempotent-replayed"), None);
    assert!(replay.body.get("invitation_token").is_none());
}

#[tokio::test]
async fn an_invitation_token_is_never_kept_for_a_replay() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let invite = json!({"email": "eve@example.com", "role": "member"});
    let first = post_invitation(&app, &ada, &invite, "invite-1").await;
    let token = first.body["invitation_token"].as_str().unwrap().to_owned();
    let kept = app
        .api
        .db()
        .execute(
            "SELECT coalesce(string_agg(records, ''), '') FROM idempotency_answers",
            vec![],
        )
        .await
        .unwrap();
    let kept: String = kept.first().unwrap().get(0).unwrap();
    assert!(
        kept.contains("eve@example.com") && !kept.contains(&token),
        "{kept}"
    );

    let replay = post_invitation(&app, &ada, &invite, "invite-1").await;
    assert_eq!(
        (replay.status, replay.header("idempotent-replayed")),
        (201, Some("true"))
    );
    assert_eq!(replay.body["invitation_token"], Value::Null);
    assert_eq!(replay.body["id"], first.body["id"]);
}

#[tokio::test]
async fn a_key_kept_before_keys_had_senders_is_refused_not_failed() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let body = json!({"email": "eve@example.com", "role": "member"});
    let first = post_invitation(&app, &ada, &body, "old-key").await;
    assert_eq!(first.status, 201);
    // As the release before migration 0005 kept it: no sender, no role.
    app.api
        .db()
        .execute("UPDATE idempotency_keys SET user_id = NULL, role = NULL", vec![])
        .await
        .unwrap();
    let again = post_invitation(&app, &ada, &body, "old-key").await;
    assert_eq!(again.status, 409, "{:?}", again.body);
}
