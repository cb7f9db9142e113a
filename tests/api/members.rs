//! `PATCH` and `DELETE /household/members/{user_id}`: owners change roles and remove members,
//! members leave; the last owner stays, even when two owners race; sessions end with the member.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request, with_if_match};
use serde_json::{Value, json};

async fn get(app: &TestApp, session: &Value) -> harness::TestResponse {
    let request = bearer_request("GET", "/household", session);
    app.send(&functions::registry::HOUSEHOLD_GET, request).await
}

async fn set_role(app: &TestApp, caller: &Value, member: &str, role: &str) -> harness::TestResponse {
    let path = format!("/household/members/{member}");
    let request = json_request(
        "PATCH",
        &path,
        &json!({ "role": role }),
        Some(access_token(caller)),
    );
    app.send(&functions::registry::HOUSEHOLD_MEMBER_ROLE, request)
        .await
}

/// Every member's role, straight from the database, by email.
async fn roles(app: &TestApp, session: &Value) -> Vec<(String, String)> {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT email, role::text FROM users WHERE household_id = :id::uuid ORDER BY email",
            vec![shared::db::param("id", session["household_id"].as_str().unwrap())],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap()))
        .collect()
}

fn id(session: &Value) -> &str {
    session["user_id"].as_str().unwrap()
}

#[tokio::test]
async fn an_owner_promotes_and_demotes_members_in_one_call() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("a-owner@example.com").await;
    let member = app.join(&owner, "b-member@example.com", "member").await;
    app.reset_calls();
    let promoted = set_role(&app, &owner, id(&member), "owner").await;
    assert_eq!(promoted.status, 200, "{:?}", promoted.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(promoted.body["role"], "owner");
    assert_eq!(promoted.body["user_id"], member["user_id"]);
    assert!(promoted.header("etag").is_some());
    // Now two owners: the first may step down.
    let stepped_down = set_role(&app, &owner, id(&owner), "member").await;
    assert_eq!(stepped_down.status, 200);
    assert_eq!(
        roles(&app, &owner).await,
        [
            ("a-owner@example.com".to_owned(), "member".to_owned()),
            ("b-member@example.com".to_owned(), "owner".to_owned())
        ]
    );
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("a-owner@example.com").await;
    let _member = app.join(&owner, "b-member@example.com", "member").await;
    let before = roles(&app, &owner).await;
    let refused = set_role(&app, &owner, id(&owner), "member").await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("last owner"));
    assert_eq!(roles(&app, &owner).await, before);
    assert_eq!(
        set_role(&app, &owner, id(&owner), "owner").await.status,
        200,
        "staying owner is fine"
    );
}

#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    let app = TestApp::spawn().await.unwrap();
    let first = app.register("a-first@example.com").await;
    let second = app.join(&first, "b-second@example.com", "owner").await;
    // Hold the household's user rows so both requests are inside their statements at once, then
    // let them go together: the race happens every time, not by luck.
    let db = app.api.db();
    let hold = db.begin().await.unwrap();
    db.execute_in(
        &hold,
        "SELECT id FROM users WHERE household_id = :id::uuid FOR UPDATE",
        vec![shared::db::param("id", first["household_id"].as_str().unwrap())],
    )
    .await
    .unwrap();
    let racing = async {
        tokio::join!(
            set_role(&app, &first, id(&second), "member"),
            set_role(&app, &second, id(&first), "member"),
        )
    };
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        db.commit(hold).await.unwrap();
    };
    let ((one, two), ()) = tokio::join!(racing, release);
    let mut statuses = [one.status, two.status];
    statuses.sort_unstable();
    // The loser is refused as the last owner, or (demoted first) as no longer an owner.
    assert!(statuses == [200, 409] || statuses == [200, 403], "{statuses:?}");
    let owners = roles(&app, &first)
        .await
        .into_iter()
        .filter(|(_, role)| role == "owner")
        .count();
    assert_eq!(owners, 1);
}

#[tokio::test]
async fn members_cannot_change_roles() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("a-owner@example.com").await;
    let member = app.join(&owner, "b-member@example.com", "member").await;
    let before = roles(&app, &owner).await;
    assert_eq!(set_role(&app, &member, id(&member), "owner").await.status, 403);
    assert_eq!(set_role(&app, &member, id(&owner), "member").await.status, 403);
    assert_eq!(roles(&app, &owner).await, before);
}

#[tokio::test]
async fn unknown_foreign_and_malformed_members_are_not_found_alike() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("a-owner@example.com").await;
    let stranger = app.register("z-stranger@example.com").await;
    let before = (roles(&app, &owner).await, roles(&app, &stranger).await);
    let unknown = shared::domain::UserId::new().to_string();
    for target in [unknown.as_str(), id(&stranger), "not-a-uuid", "1"] {
        let response = set_role(&app, &owner, target, "member").await;
        assert_eq!(response.status, 404, "{target}: {:?}", response.body);
        assert_eq!(response.body["type"], "/problems/not-found");
    }
    assert_eq!((roles(&app, &owner).await, roles(&app, &stranger).await), before);
}

#[tokio::test]
async fn a_role_change_honours_if_match_and_refuses_unknown_roles() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("a-owner@example.com").await;
    let member = app.join(&owner, "b-member@example.com", "member").await;
    let first = set_role(&app, &owner, id(&member), "owner").await;
    let stale = "\"1\"";
    let path = format!("/household/members/{}", id(&member));
    let request = json_request(
        "PATCH",
        &path,
        &json!({"role": "member"}),
        Some(access_token(&owner)),
    );
    let request = with_if_match(request, Some(stale));
    let refused = app
        .send(&functions::registry::HOUSEHOLD_MEMBER_ROLE, request)
        .await;
    assert_eq!(refused.status, 412);
    let request = json_request(
        "PATCH",
        &path,
        &json!({"role": "member"}),
        Some(access_token(&owner)),
    );
    let request = with_if_match(request, first.header("etag"));
    let accepted = app
        .send(&functions::registry::HOUSEHOLD_MEMBER_ROLE, request)
        .await;
    assert_eq!(accepted.status, 200);

    app.reset_calls();
    let invalid = set_role(&app, &owner, id(&member), "admin").await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.body["errors"][0]["field"], "role");
    assert_eq!(app.calls(), 0);
}

async fn remove(app: &TestApp, caller: &Value, member: &str) -> harness::TestResponse {
    let request = bearer_request("DELETE", &format!("/household/members/{member}"), caller);
    app.send(&functions::registry::HOUSEHOLD_MEMBER_REMOVE, request)
        .await
}

/// Refresh tokens of a user still in the database.
async fn refresh_tokens(app: &TestApp, session: &Value) -> i64 {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT count(*) FROM refresh_tokens WHERE user_id = :id::uuid",
            vec![shared::db::param("id", id(session))],
        )
        .await
        .unwrap();
    rows.first().unwrap().get(0).unwrap()
}

#[tokio::test]
async fn a_removed_member_loses_access_and_sessions_in_the_same_call() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("a-owner@example.com").await;
    let member = app.join(&owner, "b-member@example.com", "member").await;
    assert!(refresh_tokens(&app, &member).await > 0);
    app.reset_calls();
    let removed = remove(&app, &owner, id(&member)).await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(refresh_tokens(&app, &member).await, 0, "their sessions are gone");
    assert_eq!(
        get(&app, &member).await.status,
        401,
        "their access token stops working at once"
    );
    let refresh = json_request(
        "POST",
        "/auth/refresh",
        &json!({"refresh_token": member["refresh_token"]}),
        None,
    );
    assert_eq!(
        app.send(&functions::registry::AUTH_REFRESH, refresh).await.status,
        401
    );
    assert_eq!(
        roles(&app, &owner).await,
        [("a-owner@example.com".to_owned(), "owner".to_owned())]
    );
}

#[tokio::test]
async fn a_member_may_leave_but_not_remove_others_and_the_last_owner_stays() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("a-owner@example.com").await;
    let first = app.join(&owner, "b-first@example.com", "member").await;
    let second = app.join(&owner, "c-second@example.com", "member").await;
    assert_eq!(remove(&app, &first, id(&second)).await.status, 403);
    assert_eq!(remove(&app, &first, id(&owner)).await.status, 403);
    assert_eq!(remove(&app, &first, id(&first)).await.status, 204, "leaving");
    let last = remove(&app, &owner, id(&owner)).await;
    assert_eq!(last.status, 409);
    assert!(last.body["detail"].as_str().unwrap().contains("last owner"));
    assert_eq!(roles(&app, &owner).await.len(), 2);
}

#[tokio::test]
async fn removing_unknown_foreign_or_malformed_members_is_not_found() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("a-owner@example.com").await;
    let stranger = app.register("z-stranger@example.com").await;
    let unknown = shared::domain::UserId::new().to_string();
    for target in [unknown.as_str(), id(&stranger), "nope"] {
        assert_eq!(remove(&app, &owner, target).await.status, 404, "{target}");
    }
    assert_eq!(get(&app, &stranger).await.status, 200, "untouched");
}

#[tokio::test]
async fn an_owner_removes_a_member_who_recorded_transactions_and_their_history_keeps_their_name() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("a-owner@example.com").await;
    let member = app.join(&owner, "b-member@example.com", "member").await;
    let account = json_request(
        "POST",
        "/accounts",
        &json!({"name": "Checking", "kind": "checking", "opening_balance": 100}),
        Some(access_token(&member)),
    );
    let account = app.send(&functions::registry::ACCOUNTS_CREATE, account).await;
    assert_eq!(account.status, 201);
    let spend = json!({"account_id": account.body["id"], "date": "2026-11-20", "amount": -40});
    let spent = app
        .send(
            &functions::registry::TRANSACTIONS_CREATE,
            json_request("POST", "/transactions", &spend, Some(access_token(&member))),
        )
        .await;
    assert_eq!(spent.status, 201);
    assert_eq!(
        (&spent.body["recorded_by"], &spent.body["recorded_by_name"]),
        (&member["user_id"], &json!("Test Member"))
    );
    let path = format!("/transactions/{}", spent.body["id"].as_str().unwrap());
    let deleted = app
        .send(
            &functions::registry::TRANSACTIONS_DELETE,
            bearer_request("DELETE", &path, &member),
        )
        .await;
    assert_eq!(
        deleted.status, 204,
        "a deleted transaction of theirs changes nothing"
    );

    app.reset_calls();
    let removed = remove(&app, &owner, id(&member)).await;
    assert_eq!((removed.status, app.calls()), (204, 1), "{:?}", removed.body);
    assert_eq!(get(&app, &member).await.status, 401, "their tokens stop at once");
    assert_eq!(refresh_tokens(&app, &member).await, 0, "their sessions went");
    let login = app
        .post_login(&json!({"email": "b-member@example.com", "password": "correct horse battery"}))
        .await;
    assert_eq!(login.status, 401, "their account went");

    let members = get(&app, &owner).await.body["members"].clone();
    assert_eq!(
        members.as_array().unwrap().len(),
        1,
        "a former member is not a member: {members}"
    );
    let list = app
        .send(
            &functions::registry::TRANSACTIONS_LIST,
            harness::app::with_query(
                bearer_request("GET", "/transactions", &owner),
                &[("include_deleted", "true")],
            ),
        )
        .await;
    let names: Vec<&str> = list.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["recorded_by_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Test Member", "Test Member"],
        "the spending and the opening balance"
    );
    let former = &list.body["transactions"][0]["recorded_by"];
    assert_ne!(
        former, &member["user_id"],
        "a former member's record, not a dangling reference"
    );
    // The email is free again: the person can start over.
    let again = app.register("b-member@example.com").await;
    assert!(again["user_id"].is_string());
}

#[tokio::test]
async fn a_demoted_owners_pending_invitations_are_revoked() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let cy = app.join(&ada, "cy@example.com", "owner").await;
    let to_owner = app.invite(&cy, "eve@example.com", "owner", 24).await;
    let adas = app.invite(&ada, "fay@example.com", "member", 24).await;

    let cy_id = cy["user_id"].as_str().unwrap();
    assert_eq!(set_role(&app, &ada, cy_id, "member").await.status, 200);
    let register = |email: &str, token: &str| json!({"email": email, "password": "correct horse battery", "display_name": "E", "invitation_token": token});
    let eve = app.post_register(&register("eve@example.com", &to_owner)).await;
    assert_eq!(
        (eve.status, eve.invalid_fields()),
        (422, vec!["invitation_token"]),
        "{:?}",
        eve.body
    );
    let fay = app.post_register(&register("fay@example.com", &adas)).await;
    assert_eq!(fay.status, 201, "another owner's invitation still holds");
}
