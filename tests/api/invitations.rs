//! Invitations end to end: an owner invites, the invitee registers with the token and sees the
//! same household; the token works once; revoked or expired invitations are refused; members and
//! other households cannot touch them.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request};
use serde_json::{Value, json};
use shared::db::param;

async fn invite(app: &TestApp, caller: &Value, email: &str, role: &str) -> harness::TestResponse {
    let body = json!({ "email": email, "role": role });
    let request = json_request(
        "POST",
        "/household/invitations",
        &body,
        Some(access_token(caller)),
    );
    app.send(&functions::registry::INVITATIONS_CREATE, request).await
}

async fn list(app: &TestApp, caller: &Value) -> harness::TestResponse {
    let request = bearer_request("GET", "/household/invitations", caller);
    app.send(&functions::registry::INVITATIONS_LIST, request).await
}

async fn revoke(app: &TestApp, caller: &Value, id: &str) -> harness::TestResponse {
    let path = format!("/household/invitations/{id}");
    let request = bearer_request("DELETE", &path, caller);
    app.send(&functions::registry::INVITATIONS_REVOKE, request).await
}

async fn register_with(app: &TestApp, email: &str, invitation_token: &str) -> harness::TestResponse {
    app.post_register(&json!({
        "email": email,
        "password": "correct horse battery",
        "display_name": "Invitee",
        "invitation_token": invitation_token,
    }))
    .await
}

/// How many invitations the household has in the database, pending or not.
async fn stored(app: &TestApp, session: &Value) -> i64 {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT count(*) FROM household_invitations WHERE household_id = :id::uuid",
            vec![param("id", session["household_id"].as_str().unwrap())],
        )
        .await
        .unwrap();
    rows.first().unwrap().get(0).unwrap()
}

#[tokio::test]
async fn an_invitee_joins_with_the_token_once_and_sees_the_same_household() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    app.reset_calls();
    let created = invite(&app, &owner, "Bob@Example.com", "member").await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(created.body["email"], "bob@example.com");
    assert_eq!(created.body["role"], "member");
    assert_eq!(created.body["invited_by"], owner["user_id"]);
    let secret = created.body["invitation_token"].as_str().unwrap().to_owned();

    // Stored only as its hash.
    let rows = app
        .api
        .db()
        .execute(
            "SELECT token_hash, expires_at - created_at = interval '7 days' FROM household_invitations",
            vec![],
        )
        .await
        .unwrap();
    let row = rows.first().unwrap();
    let hash: Vec<u8> = row.get(0).unwrap();
    assert_eq!(hash, shared::auth::SecretToken::parse(&secret).unwrap().hash());
    assert!(row.get::<bool>(1).unwrap(), "expires after 7 days");

    let joined = register_with(&app, "bob@example.com", &secret).await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    assert_eq!(joined.body["household_id"], owner["household_id"]);
    let again = register_with(&app, "bob@example.com", &secret).await;
    assert_ne!(again.status, 201, "a token works once");

    let seen = app
        .send(
            &functions::registry::HOUSEHOLD_GET,
            bearer_request("GET", "/household", &joined.body),
        )
        .await;
    assert_eq!(seen.body["members"].as_array().unwrap().len(), 2);
    let pending = list(&app, &owner).await;
    assert_eq!(
        pending.body["invitations"],
        json!([]),
        "accepted ones are not pending"
    );
}

#[tokio::test]
async fn the_pending_list_shows_no_tokens_and_no_expired_invitations() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let first = invite(&app, &owner, "one@example.com", "member").await;
    let second = invite(&app, &owner, "two@example.com", "owner").await;
    app.invite(&owner, "old@example.com", "member", -1).await;
    app.reset_calls();
    let listed = list(&app, &owner).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(app.calls(), 1);
    let invitations = listed.body["invitations"].as_array().unwrap();
    let ids: Vec<&Value> = invitations.iter().map(|i| &i["id"]).collect();
    assert_eq!(
        ids,
        [&second.body["id"], &first.body["id"]],
        "newest first, expired left out"
    );
    assert!(invitations.iter().all(|i| i.get("invitation_token").is_none()));
}

#[tokio::test]
async fn a_revoked_invitation_can_no_longer_be_used() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let created = invite(&app, &owner, "bob@example.com", "member").await;
    let id = created.body["id"].as_str().unwrap();
    app.reset_calls();
    let revoked = revoke(&app, &owner, id).await;
    assert_eq!(revoked.status, 204, "{:?}", revoked.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(revoke(&app, &owner, id).await.status, 404, "already gone");
    let secret = created.body["invitation_token"].as_str().unwrap();
    let refused = register_with(&app, "bob@example.com", secret).await;
    assert_ne!(refused.status, 201);
    assert_eq!(stored(&app, &owner).await, 0);
}

#[tokio::test]
async fn an_expired_invitation_is_refused() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let secret = app.invite(&owner, "late@example.com", "member", -1).await;
    assert_ne!(register_with(&app, "late@example.com", &secret).await.status, 201);
}

#[tokio::test]
async fn an_account_elsewhere_is_invited_like_anyone_but_a_member_here_is_not() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    app.register("taken@example.com").await;
    let unknown = invite(&app, &owner, "nobody@example.com", "member").await;
    let taken = invite(&app, &owner, "taken@example.com", "member").await;
    assert_eq!(
        (unknown.status, taken.status),
        (201, 201),
        "the answer tells nobody who has an account: {:?}",
        taken.body
    );
    let shape = |body: &Value| -> Vec<String> {
        let mut keys: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(shape(&unknown.body), shape(&taken.body));
    let member = invite(&app, &owner, "owner@example.com", "member").await;
    assert_eq!(member.status, 409, "{:?}", member.body);
    assert_eq!(stored(&app, &owner).await, 2);
}

#[tokio::test]
async fn members_and_other_households_cannot_touch_invitations() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let member = app.join(&owner, "member@example.com", "member").await;
    let stranger = app.register("stranger@example.com").await;
    let created = invite(&app, &owner, "bob@example.com", "member").await;
    let id = created.body["id"].as_str().unwrap();
    let before = stored(&app, &owner).await;

    assert_eq!(
        invite(&app, &member, "eve@example.com", "owner").await.status,
        403
    );
    assert_eq!(list(&app, &member).await.status, 403);
    assert_eq!(revoke(&app, &member, id).await.status, 403);
    // Another household's owner: the id is not theirs, so it does not exist for them.
    assert_eq!(revoke(&app, &stranger, id).await.status, 404);
    assert_eq!(list(&app, &stranger).await.body["invitations"], json!([]));
    for malformed in ["not-a-uuid", "42"] {
        assert_eq!(revoke(&app, &owner, malformed).await.status, 404, "{malformed}");
    }
    assert_eq!(stored(&app, &owner).await, before);
}

#[tokio::test]
async fn invalid_invitations_name_every_field() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    app.reset_calls();
    let invalid = invite(&app, &owner, "not-an-email", "admin").await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.invalid_fields(), ["email", "role"]);
    assert_eq!(app.calls(), 0);
}

#[tokio::test]
async fn pending_invitations_are_capped() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let cap = functions::invitations::MAX_PENDING;
    // Ids are UUIDv7 (the API refuses others), so they are made here, not by PostgreSQL.
    let ids: Vec<String> = (0..cap)
        .map(|_| shared::domain::InvitationId::new().to_string())
        .collect();
    app.api
        .db()
        .execute(
            "INSERT INTO household_invitations (id, household_id, email, role, token_hash, invited_by, expires_at) \
             SELECT id::uuid, :household::uuid, 'bulk' || n || '@example.com', 'member', \
                    sha256(n::text::bytea), :inviter::uuid, now() + interval '1 day' \
             FROM unnest(string_to_array(:ids, ',')) WITH ORDINALITY AS t (id, n)",
            vec![
                param("household", owner["household_id"].as_str().unwrap()),
                param("inviter", owner["user_id"].as_str().unwrap()),
                param("ids", ids.join(",").as_str()),
            ],
        )
        .await
        .unwrap();
    let refused = invite(&app, &owner, "one-more@example.com", "member").await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(stored(&app, &owner).await, cap);
    let listed = list(&app, &owner).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["invitations"].as_array().unwrap().len() as i64, cap);
}
