//! `POST /invitations/accept`: an existing account joins the household that invited it, leaving
//! its own. Its history stays with the household it left, which keeps its data for the members who
//! stay, or is deleted, on confirmation, when nobody stays; the last owner cannot leave others
//! behind; every outcome is one Data API call.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request, with_query};
use serde_json::{Value, json};
use shared::db::param;

async fn accept(app: &TestApp, caller: &Value, token: &str, delete: Option<bool>) -> harness::TestResponse {
    let mut body = json!({ "invitation_token": token });
    if let Some(delete) = delete {
        body["delete_current_household"] = json!(delete);
    }
    let request = json_request("POST", "/invitations/accept", &body, Some(access_token(caller)));
    app.send(&functions::registry::INVITATIONS_ACCEPT, request).await
}

async fn household(app: &TestApp, session: &Value) -> harness::TestResponse {
    let request = bearer_request("GET", "/household", session);
    app.send(&functions::registry::HOUSEHOLD_GET, request).await
}

/// Rows of `table` in `session`'s household, straight from the database.
async fn count(app: &TestApp, table: &str, session: &Value) -> i64 {
    let rows = app
        .api
        .db()
        .execute(
            &format!("SELECT count(*) FROM {table} WHERE household_id = :id::uuid"),
            vec![param("id", session["household_id"].as_str().unwrap())],
        )
        .await
        .unwrap();
    rows.first().unwrap().get(0).unwrap()
}

/// A spending of `amount` in a new account of `session`'s; answers the transaction.
async fn spend(app: &TestApp, session: &Value, amount: i64) -> Value {
    let account = app
        .create_account(session, &json!({"name": "Wallet", "kind": "cash"}))
        .await;
    let body = json!({"account_id": account.body["id"], "date": "2026-11-20", "amount": amount});
    let request = json_request("POST", "/transactions", &body, Some(access_token(session)));
    let spent = app.send(&functions::registry::TRANSACTIONS_CREATE, request).await;
    assert_eq!(spent.status, 201, "{:?}", spent.body);
    spent.body
}

async fn login(app: &TestApp, email: &str) -> harness::TestResponse {
    app.post_login(&json!({"email": email, "password": "correct horse battery"}))
        .await
}

#[tokio::test]
async fn an_account_joins_another_household_and_its_history_stays_with_the_one_it_left() {
    let app = TestApp::spawn().await.unwrap();
    let first = app.register("first-owner@example.com").await;
    let leaver = app.join(&first, "leaver@example.com", "member").await;
    let spent = spend(&app, &leaver, -2_500).await;
    let before = household(&app, &first).await.body["server_knowledge"].clone();
    let second = app.register("second-owner@example.com").await;
    let token = app.invite(&second, "leaver@example.com", "owner", 24).await;

    // Registering again with the invitation is refused, and says how to join.
    let registering = app
        .post_register(
            &json!({"email": "leaver@example.com", "password": "correct horse battery",
                               "display_name": "Again", "invitation_token": token}),
        )
        .await;
    assert_eq!(registering.status, 409);
    assert!(
        registering.body["detail"]
            .as_str()
            .unwrap()
            .contains("/invitations/accept")
    );

    app.reset_calls();
    let joined = accept(&app, &leaver, &token, None).await;
    assert_eq!((joined.status, app.calls()), (201, 1), "{:?}", joined.body);
    assert_eq!(joined.body["household_id"], second["household_id"]);
    assert_ne!(joined.body["user_id"], leaver["user_id"], "a new membership");

    // The new session is an owner of the second household, with the same name and email.
    let seen = household(&app, &joined.body).await;
    assert_eq!(seen.status, 200);
    let members = seen.body["members"].as_array().unwrap();
    let me = members
        .iter()
        .find(|m| m["user_id"] == joined.body["user_id"])
        .expect("the new member is listed");
    assert_eq!(
        (&me["email"], &me["role"], &me["display_name"]),
        (
            &json!("leaver@example.com"),
            &json!("owner"),
            &json!("Test Member")
        )
    );
    // The old account's tokens ended; logging in lands in the new household.
    assert_eq!(app.get_me(Some(access_token(&leaver))).await.status, 401);
    let refreshed = app
        .post_refresh(&json!({"refresh_token": leaver["refresh_token"]}))
        .await;
    assert_eq!(refreshed.status, 401);
    let logged_in = login(&app, "leaver@example.com").await;
    assert_eq!(logged_in.body["household_id"], second["household_id"]);

    // The household left sees them go, and keeps their transactions under their name.
    let delta = app
        .send(
            &functions::registry::HOUSEHOLD_GET,
            with_query(
                bearer_request("GET", "/household", &first),
                &[("last_knowledge_of_server", &before.to_string())],
            ),
        )
        .await;
    assert!(
        delta.body["members"]
            .as_array()
            .unwrap()
            .contains(&json!({"user_id": leaver["user_id"], "deleted": true})),
        "{:?}",
        delta.body
    );
    let path = format!("/transactions/{}", spent["id"].as_str().unwrap());
    let kept = app
        .send(
            &functions::registry::TRANSACTIONS_GET,
            bearer_request("GET", &path, &first),
        )
        .await;
    assert_eq!((kept.status, &kept.body["amount"]), (200, &json!(-2_500)));
    assert_eq!(kept.body["recorded_by_name"], "Test Member");
    assert_ne!(kept.body["recorded_by"], leaver["user_id"]);

    // The invitation joined once.
    let again = accept(&app, &logged_in.body, &token, None).await;
    assert_eq!(again.status, 422, "{:?}", again.body);
}

#[tokio::test]
async fn the_only_member_joins_only_when_deleting_their_household_is_confirmed() {
    let app = TestApp::spawn().await.unwrap();
    let alone = app.register("alone@example.com").await;
    spend(&app, &alone, -700).await;
    let host = app.register("host@example.com").await;
    let token = app.invite(&host, "alone@example.com", "member", 24).await;

    for delete in [None, Some(false)] {
        app.reset_calls();
        let refused = accept(&app, &alone, &token, delete).await;
        assert_eq!((refused.status, app.calls()), (409, 1), "{:?}", refused.body);
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("delete_current_household")
        );
    }
    assert_eq!(count(&app, "transactions", &alone).await, 1, "nothing lost");
    assert_eq!(app.get_me(Some(access_token(&alone))).await.status, 200);

    let joined = accept(&app, &alone, &token, Some(true)).await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    assert_eq!(joined.body["household_id"], host["household_id"]);
    for table in ["households", "users", "accounts", "transactions", "categories"] {
        let rows = if table == "households" {
            let rows = app
                .api
                .db()
                .execute(
                    "SELECT count(*) FROM households WHERE id = :id::uuid",
                    vec![param("id", alone["household_id"].as_str().unwrap())],
                )
                .await
                .unwrap();
            rows.first().unwrap().get::<i64>(0).unwrap()
        } else {
            count(&app, table, &alone).await
        };
        assert_eq!(rows, 0, "{table} of the deleted household");
    }
    let members = household(&app, &host).await.body["members"].clone();
    assert_eq!(members.as_array().unwrap().len(), 2, "{members}");
}

#[tokio::test]
async fn the_last_owner_cannot_leave_members_behind() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let member = app.join(&owner, "member@example.com", "member").await;
    let host = app.register("host@example.com").await;
    let token = app.invite(&host, "owner@example.com", "member", 24).await;

    app.reset_calls();
    let refused = accept(&app, &owner, &token, Some(true)).await;
    assert_eq!((refused.status, app.calls()), (409, 1), "{:?}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("last owner"));
    assert_eq!(household(&app, &member).await.status, 200);
    assert_eq!(count(&app, "users", &owner).await, 2, "both stay");

    // Once the member is an owner too, the first owner may go.
    let path = format!("/household/members/{}", member["user_id"].as_str().unwrap());
    let promoted = app
        .send_json(
            &functions::registry::HOUSEHOLD_MEMBER_ROLE,
            "PATCH",
            &path,
            &owner,
            &json!({"role": "owner"}),
        )
        .await;
    assert_eq!(promoted.status, 200);
    let joined = accept(&app, &owner, &token, None).await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    assert_eq!(count(&app, "users", &owner).await, 1);
}

#[tokio::test]
async fn unusable_invitations_are_refused_alike_and_change_nothing() {
    let app = TestApp::spawn().await.unwrap();
    let caller = app.register("caller@example.com").await;
    let host = app.register("host@example.com").await;
    let someone_elses = app.invite(&host, "someone@example.com", "member", 24).await;
    let expired = app.invite(&host, "caller@example.com", "member", -1).await;
    let unknown = shared::auth::SecretToken::generate().secret().to_owned();
    for token in [
        someone_elses.as_str(),
        expired.as_str(),
        unknown.as_str(),
        "not a token",
    ] {
        let refused = accept(&app, &caller, token, Some(true)).await;
        assert_eq!(refused.status, 422, "{token}: {:?}", refused.body);
        assert_eq!(refused.body["errors"][0]["field"], "invitation_token");
    }
    // An invitation into one's own household (made before one joined) joins nothing.
    let own = app.invite(&caller, "caller@example.com", "owner", 24).await;
    let refused = accept(&app, &caller, &own, Some(true)).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(app.get_me(Some(access_token(&caller))).await.status, 200);
    assert_eq!(count(&app, "accounts", &caller).await, 0);
    assert_eq!(count(&app, "users", &host).await, 1);
}

#[tokio::test]
async fn a_logged_out_session_cannot_accept() {
    let app = TestApp::spawn().await.unwrap();
    let caller = app.register("caller@example.com").await;
    let host = app.register("host@example.com").await;
    let token = app.invite(&host, "caller@example.com", "member", 24).await;
    let out = app
        .post_logout(&json!({"refresh_token": caller["refresh_token"]}))
        .await;
    assert_eq!(out.status, 204);
    let refused = accept(&app, &caller, &token, Some(true)).await;
    assert_eq!(refused.status, 401, "{:?}", refused.body);
    assert_eq!(count(&app, "users", &host).await, 1);
}

#[tokio::test]
async fn two_acceptances_at_once_move_the_account_once_and_leave_the_others_household_alone() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let member = app.join(&owner, "member@example.com", "member").await;
    let (north, south) = (
        app.register("north@example.com").await,
        app.register("south@example.com").await,
    );
    let to_north = app.invite(&north, "member@example.com", "member", 24).await;
    let to_south = app.invite(&south, "member@example.com", "member", 24).await;
    // Both confirm a deletion, as a client may always do: it must apply only to a household the
    // caller is alone in, never to the owner's.
    let (first, second) = tokio::join!(
        accept(&app, &member, &to_north, Some(true)),
        accept(&app, &member, &to_south, Some(true)),
    );
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses[0], 201, "{:?} {:?}", first.body, second.body);
    assert_eq!(statuses[1], 401, "{:?} {:?}", first.body, second.body);
    assert_eq!(
        household(&app, &owner).await.status,
        200,
        "the owner's household stays"
    );
    assert_eq!(count(&app, "users", &owner).await, 1);
    assert_eq!(login(&app, "owner@example.com").await.status, 200);
    let joined = if first.status == 201 { &first } else { &second };
    assert_eq!(
        login(&app, "member@example.com").await.body["household_id"],
        joined.body["household_id"]
    );
}
