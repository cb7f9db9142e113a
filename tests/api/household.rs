//! `GET /household` and `PATCH /household`: the caller's household, its members, owner-only
//! changes checked against the stored role, and `If-Match`.

use harness::TestApp;
use harness::app::bearer_request;
use serde_json::{Value, json};

async fn get(app: &TestApp, session: &Value) -> harness::TestResponse {
    let request = bearer_request("GET", "/household", session);
    app.send(&functions::registry::HOUSEHOLD_GET, request).await
}

async fn patch(
    app: &TestApp,
    session: &Value,
    body: &Value,
    if_match: Option<&str>,
) -> harness::TestResponse {
    app.send_json_if_match(
        &functions::registry::HOUSEHOLD_UPDATE,
        "PATCH",
        "/household",
        session,
        body,
        if_match,
    )
    .await
}

/// The household's name and currency straight from the database.
async fn stored(app: &TestApp, session: &Value) -> (String, String) {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT name, currency_code FROM households WHERE id = :id::uuid",
            vec![shared::db::param("id", session["household_id"].as_str().unwrap())],
        )
        .await
        .unwrap();
    let row = rows.first().unwrap();
    (row.get(0).unwrap(), row.get(1).unwrap())
}

#[tokio::test]
async fn the_household_lists_its_members_with_an_etag_in_one_call() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let member = app.join(&owner, "member@example.com", "member").await;
    app.reset_calls();
    let response = get(&app, &member).await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    assert_eq!(app.calls(), 1);
    let body = &response.body;
    assert_eq!(body["id"], owner["household_id"]);
    assert_eq!(body["currency_code"], "USD");
    let members = body["members"].as_array().unwrap();
    let people: Vec<(&str, &str, &str)> = members
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap(),
                m["email"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        people,
        [
            (owner["user_id"].as_str().unwrap(), "owner@example.com", "owner"),
            (
                member["user_id"].as_str().unwrap(),
                "member@example.com",
                "member"
            ),
        ]
    );
    assert!(members[0]["joined_at"].as_str().unwrap().ends_with('Z'));
    let etag = response.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(
        get(&app, &owner).await.header("etag"),
        Some(etag),
        "a read changes nothing"
    );
}

#[tokio::test]
async fn households_are_invisible_to_each_other() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let seen = get(&app, &bob).await;
    assert_eq!(seen.body["id"], bob["household_id"]);
    let emails: Vec<&str> = seen.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["bob@example.com"]);
    assert_ne!(ada["household_id"], bob["household_id"]);
}

#[tokio::test]
async fn an_owner_renames_the_household_and_changes_its_currency() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let before = get(&app, &owner).await;
    app.reset_calls();
    let response = patch(&app, &owner, &json!({"name": "The Smiths"}), None).await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(response.body["name"], "The Smiths");
    assert_eq!(response.body["currency_code"], "USD", "a field not sent is kept");
    assert_eq!(response.body["members"].as_array().unwrap().len(), 1);
    assert_ne!(
        response.header("etag"),
        before.header("etag"),
        "a write changes the version"
    );

    let response = patch(&app, &owner, &json!({"currency_code": "EUR"}), None).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        stored(&app, &owner).await,
        ("The Smiths".to_owned(), "EUR".to_owned())
    );
}

#[tokio::test]
async fn if_match_refuses_a_stale_version_and_changes_nothing() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let read = get(&app, &owner).await;
    let version = read.header("etag").unwrap().to_owned();
    let first = patch(&app, &owner, &json!({"name": "First"}), Some(&version)).await;
    assert_eq!(first.status, 200, "the current version matches");
    let second = patch(&app, &owner, &json!({"name": "Second"}), Some(&version)).await;
    assert_eq!(second.status, 412, "{:?}", second.body);
    assert_eq!(second.body["type"], "/problems/precondition-failed");
    for tag in ["\"not-a-version\"", "W/\"1\""] {
        let response = patch(&app, &owner, &json!({"name": "Other"}), Some(tag)).await;
        assert_eq!(response.status, 412, "{tag}");
    }
    assert_eq!(stored(&app, &owner).await.0, "First");
    let newest = first.header("etag").unwrap().to_owned();
    let listed = format!("\"1\", {newest}");
    let third = patch(&app, &owner, &json!({"name": "Third"}), Some(&listed)).await;
    assert_eq!(third.status, 200, "one of several listed versions matches");
    let any = patch(&app, &owner, &json!({"name": "Fourth"}), Some("*")).await;
    assert_eq!(any.status, 200);
    assert_eq!(stored(&app, &owner).await.0, "Fourth");
}

#[tokio::test]
async fn only_an_owner_by_the_stored_role_may_change_the_household() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let member = app.join(&owner, "member@example.com", "member").await;
    let original = stored(&app, &owner).await.0;
    let refused = patch(&app, &member, &json!({"name": "Mine"}), None).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);

    // Demoted in the database: the owner's token still says owner, the stored role decides.
    app.api
        .db()
        .execute(
            "UPDATE users SET role = 'member' WHERE id = :id::uuid",
            vec![shared::db::param("id", owner["user_id"].as_str().unwrap())],
        )
        .await
        .unwrap();
    let demoted = patch(&app, &owner, &json!({"name": "Still mine?"}), None).await;
    assert_eq!(demoted.status, 403);
    assert_eq!(stored(&app, &owner).await.0, original);
}

#[tokio::test]
async fn a_removed_member_is_cut_off_at_once() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let member = app.join(&owner, "member@example.com", "member").await;
    app.api
        .db()
        .execute(
            "DELETE FROM users WHERE id = :id::uuid",
            vec![shared::db::param("id", member["user_id"].as_str().unwrap())],
        )
        .await
        .unwrap();
    assert_eq!(get(&app, &member).await.status, 401);
    assert_eq!(
        patch(&app, &member, &json!({"name": "x"}), None).await.status,
        401
    );
}

#[tokio::test]
async fn invalid_changes_are_refused_with_every_field_named() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let original = stored(&app, &owner).await.0;
    app.reset_calls();
    let invalid = patch(&app, &owner, &json!({"name": "", "currency_code": "euro"}), None).await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.invalid_fields(), ["name", "currency_code"]);
    assert_eq!(
        patch(&app, &owner, &json!({}), None).await.status,
        422,
        "nothing to change"
    );
    assert_eq!(
        patch(&app, &owner, &json!({"owner": "me"}), None).await.status,
        422,
        "unknown field"
    );
    assert_eq!(app.calls(), 0, "refused before the database");
    assert_eq!(stored(&app, &owner).await.0, original);
}
