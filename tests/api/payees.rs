//! Payees: create, list, rename, delete (transactions keep their amounts and lose the payee);
//! transfer payees change only with their account; names unique; tenant isolation; the cap that
//! keeps the list inside the Data API's response limit.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request};
use serde_json::{Value, json};
use shared::db::param;

async fn create(app: &TestApp, caller: &Value, name: &str) -> harness::TestResponse {
    let request = json_request(
        "POST",
        "/payees",
        &json!({ "name": name }),
        Some(access_token(caller)),
    );
    app.send(&functions::registry::PAYEES_CREATE, request).await
}

async fn list(app: &TestApp, caller: &Value) -> harness::TestResponse {
    app.send(
        &functions::registry::PAYEES_LIST,
        bearer_request("GET", "/payees", caller),
    )
    .await
}

async fn get(app: &TestApp, caller: &Value, id: &str) -> harness::TestResponse {
    let request = bearer_request("GET", &format!("/payees/{id}"), caller);
    app.send(&functions::registry::PAYEES_GET, request).await
}

async fn rename(
    app: &TestApp,
    caller: &Value,
    id: &str,
    name: &str,
    if_match: Option<&str>,
) -> harness::TestResponse {
    let path = format!("/payees/{id}");
    let body = json!({ "name": name });
    app.send_json_if_match(
        &functions::registry::PAYEES_UPDATE,
        "PATCH",
        &path,
        caller,
        &body,
        if_match,
    )
    .await
}

async fn delete(app: &TestApp, caller: &Value, id: &str) -> harness::TestResponse {
    let request = bearer_request("DELETE", &format!("/payees/{id}"), caller);
    app.send(&functions::registry::PAYEES_DELETE, request).await
}

fn names(response: &harness::TestResponse) -> Vec<(String, bool)> {
    response.body["payees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                !p["transfer_account_id"].is_null(),
            )
        })
        .collect()
}

#[tokio::test]
async fn payees_are_created_listed_and_renamed_in_one_call_each() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    app.create_account(&ada, &json!({"name": "Checking", "kind": "checking"}))
        .await;
    app.reset_calls();
    let grocer = create(&app, &ada, "Grocer").await;
    assert_eq!(grocer.status, 201, "{:?}", grocer.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(grocer.body["transfer_account_id"], Value::Null);
    app.reset_calls();
    let listed = list(&app, &ada).await;
    assert_eq!(app.calls(), 1);
    assert_eq!(
        names(&listed),
        [
            ("Grocer".to_owned(), false),
            ("Transfer : Checking".to_owned(), true)
        ]
    );
    let id = grocer.body["id"].as_str().unwrap();
    app.reset_calls();
    let renamed = rename(&app, &ada, id, "Corner shop", None).await;
    assert_eq!(renamed.status, 200);
    assert_eq!(app.calls(), 1);
    assert_eq!(get(&app, &ada, id).await.body["name"], "Corner shop");
}

#[tokio::test]
async fn deleting_a_payee_keeps_its_transactions_amounts() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let account = app
        .create_account(&ada, &json!({"name": "Checking", "kind": "checking"}))
        .await;
    let grocer = create(&app, &ada, "Grocer").await;
    let payee = grocer.body["id"].as_str().unwrap();
    let amounts = [-12_340_i64, -5_600];
    for amount in amounts {
        app.api
            .db()
            .execute(
                "INSERT INTO transactions (id, household_id, account_id, date, amount, payee_id, created_by) \
                 VALUES (:id, :household::uuid, :account::uuid, current_date, :amount, :payee::uuid, :user::uuid)",
                vec![
                    param("id", &shared::domain::TransactionId::new()),
                    param("household", ada["household_id"].as_str().unwrap()),
                    param("account", account.body["id"].as_str().unwrap()),
                    param("amount", &amount),
                    param("payee", payee),
                    param("user", ada["user_id"].as_str().unwrap()),
                ],
            )
            .await
            .unwrap();
    }
    app.reset_calls();
    let deleted = delete(&app, &ada, payee).await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(deleted.body["transactions_unlinked"], amounts.len());
    let rows = app
        .api
        .db()
        .execute(
            "SELECT sum(amount)::bigint, count(payee_id) FROM transactions",
            vec![],
        )
        .await
        .unwrap();
    let row = rows.first().unwrap();
    assert_eq!(row.get::<i64>(0).unwrap(), amounts.iter().sum::<i64>());
    assert_eq!(
        row.get::<i64>(1).unwrap(),
        0,
        "no transaction names the payee any more"
    );
    assert_eq!(get(&app, &ada, payee).await.status, 404);
}

#[tokio::test]
async fn transfer_payees_change_only_with_their_account() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let account = app
        .create_account(&ada, &json!({"name": "Checking", "kind": "checking"}))
        .await;
    let transfer = account.body["transfer_payee_id"].as_str().unwrap();
    assert_eq!(rename(&app, &ada, transfer, "Mine", None).await.status, 409);
    assert_eq!(delete(&app, &ada, transfer).await.status, 409);
    assert_eq!(
        get(&app, &ada, transfer).await.body["name"],
        "Transfer : Checking"
    );
}

#[tokio::test]
async fn names_are_unique_valid_and_changes_honour_if_match() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let first = create(&app, &ada, "Grocer").await;
    assert_eq!(create(&app, &ada, "Grocer").await.status, 409);
    let other = create(&app, &ada, "Baker").await;
    let id = other.body["id"].as_str().unwrap();
    assert_eq!(rename(&app, &ada, id, "Grocer", None).await.status, 409);
    assert_eq!(create(&app, &ada, "").await.invalid_fields(), ["name"]);
    assert_eq!(
        rename(&app, &ada, id, &"x".repeat(101), None)
            .await
            .invalid_fields(),
        ["name"]
    );
    let version = other.header("etag").unwrap().to_owned();
    assert_eq!(rename(&app, &ada, id, "Bakery", Some(&version)).await.status, 200);
    assert_eq!(
        rename(&app, &ada, id, "Boulangerie", Some(&version)).await.status,
        412
    );
    assert_eq!(get(&app, &ada, id).await.body["name"], "Bakery");
    assert_eq!(first.status, 201);
}

#[tokio::test]
async fn another_households_payees_are_not_found_and_untouched() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let eve = app.register("eve@example.com").await;
    let grocer = create(&app, &ada, "Grocer").await;
    let id = grocer.body["id"].as_str().unwrap();
    let unknown = shared::domain::PayeeId::new().to_string();
    for target in [id, unknown.as_str(), "nope"] {
        assert_eq!(get(&app, &eve, target).await.status, 404, "{target}");
        assert_eq!(rename(&app, &eve, target, "Eve's", None).await.status, 404);
        assert_eq!(delete(&app, &eve, target).await.status, 404);
    }
    assert_eq!(list(&app, &eve).await.body["payees"], json!([]));
    let after = get(&app, &ada, id).await;
    assert_eq!(after.body["name"], "Grocer");
    assert_eq!(after.header("etag"), grocer.header("etag"));
}

#[tokio::test]
async fn payees_are_capped_so_the_list_stays_within_the_response_limit() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let cap = functions::payees::MAX_PAYEES;
    let ids: Vec<String> = (0..cap)
        .map(|_| shared::domain::PayeeId::new().to_string())
        .collect();
    // Every name at the longest a name may be.
    app.api
        .db()
        .execute(
            "INSERT INTO payees (id, household_id, name) \
             SELECT id::uuid, :household::uuid, left(n || ' ' || repeat('p', 100), 100) \
             FROM unnest(string_to_array(:ids, ',')) WITH ORDINALITY AS t (id, n)",
            vec![
                param("household", ada["household_id"].as_str().unwrap()),
                param("ids", ids.join(",").as_str()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(create(&app, &ada, "One more").await.status, 409);
    let all = list(&app, &ada).await;
    assert_eq!(all.status, 200, "the largest list still fits");
    assert_eq!(all.body["payees"].as_array().unwrap().len() as i64, cap);
}
