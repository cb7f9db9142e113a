//! Accounts: balances derived from live transactions in the same call, the opening balance and the
//! transfer payee created with the account, renames, closing, deleting only unused accounts,
//! `If-Match`, and tenant isolation for every id.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request, with_if_match, with_query};
use serde_json::{Value, json};
use shared::db::param;

async fn create(app: &TestApp, caller: &Value, body: &Value) -> harness::TestResponse {
    let request = json_request("POST", "/accounts", body, Some(access_token(caller)));
    app.send(&functions::registry::ACCOUNTS_CREATE, request).await
}

async fn list(app: &TestApp, caller: &Value, query: &str) -> harness::TestResponse {
    let pairs: Vec<(&str, &str)> = query.split('&').filter_map(|pair| pair.split_once('=')).collect();
    let request = with_query(bearer_request("GET", "/accounts", caller), &pairs);
    app.send(&functions::registry::ACCOUNTS_LIST, request).await
}

async fn get(app: &TestApp, caller: &Value, id: &str) -> harness::TestResponse {
    let request = bearer_request("GET", &format!("/accounts/{id}"), caller);
    app.send(&functions::registry::ACCOUNTS_GET, request).await
}

async fn update(
    app: &TestApp,
    caller: &Value,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> harness::TestResponse {
    let path = format!("/accounts/{id}");
    app.send_json_if_match(
        &functions::registry::ACCOUNTS_UPDATE,
        "PATCH",
        &path,
        caller,
        body,
        if_match,
    )
    .await
}

async fn delete(app: &TestApp, caller: &Value, id: &str) -> harness::TestResponse {
    let request = bearer_request("DELETE", &format!("/accounts/{id}"), caller);
    app.send(&functions::registry::ACCOUNTS_DELETE, request).await
}

/// Inserts transactions straight into the database (their endpoints come with the next issue).
async fn record(app: &TestApp, session: &Value, account: &str, amount: i64, cleared: &str, deleted: bool) {
    app.api
        .db()
        .execute(
            "INSERT INTO transactions (id, household_id, account_id, date, amount, cleared, created_by, deleted_at) \
             VALUES (:id, :household::uuid, :account::uuid, current_date, :amount, :cleared, :user::uuid, \
                     CASE WHEN :deleted THEN now() END)",
            vec![
                param("id", &shared::domain::TransactionId::new()),
                param("household", session["household_id"].as_str().unwrap()),
                param("account", account),
                param("amount", &amount),
                param("cleared", cleared),
                param("user", session["user_id"].as_str().unwrap()),
                param("deleted", &deleted),
            ],
        )
        .await
        .unwrap();
}

/// A table's rows in the household, straight from the database.
async fn count(app: &TestApp, session: &Value, table: &str) -> i64 {
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

#[tokio::test]
async fn an_account_starts_with_its_opening_balance_and_transfer_payee_in_one_call() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    app.reset_calls();
    let created = create(
        &app,
        &ada,
        &json!({"name": "Checking", "kind": "checking", "opening_balance": 1_250_500, "opening_date": "2026-11-01"}),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(app.calls(), 1);
    let body = &created.body;
    assert_eq!(body["name"], "Checking");
    assert_eq!(body["on_budget"], true);
    assert_eq!(body["closed"], false);
    assert_eq!(body["balance"], 1_250_500);
    assert_eq!(body["cleared_balance"], 1_250_500);
    assert_eq!(body["uncleared_balance"], 0);
    assert!(created.header("etag").is_some());

    let rows = app
        .api
        .db()
        .execute(
            "SELECT t.amount, t.date::text, t.cleared::text, p.name, \
                    (SELECT name FROM payees WHERE transfer_account_id = t.account_id) \
             FROM transactions t JOIN payees p ON p.id = t.payee_id",
            vec![],
        )
        .await
        .unwrap();
    let row = rows.first().unwrap();
    assert_eq!(row.get::<i64>(0).unwrap(), 1_250_500);
    assert_eq!(row.get::<String>(1).unwrap(), "2026-11-01");
    assert_eq!(row.get::<String>(2).unwrap(), "cleared");
    assert_eq!(row.get::<String>(3).unwrap(), "Starting Balance");
    assert_eq!(row.get::<String>(4).unwrap(), "Transfer : Checking");

    // A second account reuses the household's "Starting Balance" payee.
    let savings = create(
        &app,
        &ada,
        &json!({"name": "Savings", "kind": "savings", "opening_balance": 5000}),
    )
    .await;
    assert_eq!(savings.status, 201, "{:?}", savings.body);
    assert_eq!(
        count(&app, &ada, "payees").await,
        3,
        "two transfer payees and one Starting Balance"
    );
    let plain = create(
        &app,
        &ada,
        &json!({"name": "Cash", "kind": "cash", "on_budget": false}),
    )
    .await;
    assert_eq!(plain.body["balance"], 0);
    assert_eq!(plain.body["on_budget"], false);
    assert_eq!(
        count(&app, &ada, "transactions").await,
        2,
        "no opening balance, no transaction"
    );
}

#[tokio::test]
async fn balances_come_from_the_live_transactions() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let account = create(&app, &ada, &json!({"name": "Checking", "kind": "checking"})).await;
    let id = account.body["id"].as_str().unwrap().to_owned();
    let recorded = [
        (100_000, "cleared", false),
        (-25_500, "uncleared", false),
        (-4_250, "reconciled", false),
        (-99_999, "cleared", true),
    ];
    for (amount, cleared, deleted) in recorded {
        record(&app, &ada, &id, amount, cleared, deleted).await;
    }
    let live: Vec<(i64, &str)> = recorded
        .iter()
        .filter(|(_, _, deleted)| !deleted)
        .map(|(amount, cleared, _)| (*amount, *cleared))
        .collect();
    let balance: i64 = live.iter().map(|(a, _)| a).sum();
    let cleared: i64 = live
        .iter()
        .filter(|(_, c)| *c != "uncleared")
        .map(|(a, _)| a)
        .sum();
    let uncleared: i64 = live
        .iter()
        .filter(|(_, c)| *c == "uncleared")
        .map(|(a, _)| a)
        .sum();

    app.reset_calls();
    let one = get(&app, &ada, &id).await;
    assert_eq!(one.status, 200);
    assert_eq!(app.calls(), 1);
    assert_eq!(
        (
            &one.body["balance"],
            &one.body["cleared_balance"],
            &one.body["uncleared_balance"]
        ),
        (&json!(balance), &json!(cleared), &json!(uncleared))
    );
    app.reset_calls();
    let all = list(&app, &ada, "").await;
    assert_eq!(app.calls(), 1);
    assert_eq!(all.body["accounts"][0]["balance"], balance);
}

#[tokio::test]
async fn closed_accounts_are_listed_only_when_asked() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let open = create(&app, &ada, &json!({"name": "B open", "kind": "checking"})).await;
    let old = create(&app, &ada, &json!({"name": "A old", "kind": "savings"})).await;
    let old_id = old.body["id"].as_str().unwrap();
    let closed = update(&app, &ada, old_id, &json!({"closed": true}), None).await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    assert_eq!(closed.body["closed"], true);
    let names = |r: &harness::TestResponse| -> Vec<String> {
        r.body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&list(&app, &ada, "").await), ["B open"]);
    assert_eq!(
        names(&list(&app, &ada, "include_closed=true").await),
        ["A old", "B open"]
    );
    assert_eq!(list(&app, &ada, "include_closed=yes").await.status, 422);
    let reopened = update(&app, &ada, old_id, &json!({"closed": false}), None).await;
    assert_eq!(reopened.body["closed"], false);
    assert_eq!(reopened.body["closed_at"], Value::Null);
    assert_eq!(open.status, 201);
}

#[tokio::test]
async fn a_rename_renames_the_transfer_payee_and_patch_changes_only_what_is_sent() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let created = create(
        &app,
        &ada,
        &json!({"name": "Checking", "kind": "checking", "note": "joint"}),
    )
    .await;
    let id = created.body["id"].as_str().unwrap();
    app.reset_calls();
    let renamed = update(&app, &ada, id, &json!({"name": "Everyday"}), None).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(renamed.body["name"], "Everyday");
    assert_eq!(renamed.body["note"], "joint", "not sent, kept");
    assert_eq!(renamed.body["kind"], "checking");
    let rows = app
        .api
        .db()
        .execute(
            "SELECT name FROM payees WHERE transfer_account_id = :id::uuid",
            vec![param("id", id)],
        )
        .await
        .unwrap();
    assert_eq!(
        rows.first().unwrap().get::<String>(0).unwrap(),
        "Transfer : Everyday"
    );
    let cleared = update(&app, &ada, id, &json!({"note": null}), None).await;
    assert_eq!(cleared.body["note"], Value::Null);
    assert_eq!(cleared.body["name"], "Everyday");
}

#[tokio::test]
async fn names_are_unique_and_every_invalid_field_is_named() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    create(&app, &ada, &json!({"name": "Checking", "kind": "checking"})).await;
    let twice = create(&app, &ada, &json!({"name": "Checking", "kind": "savings"})).await;
    assert_eq!(twice.status, 409, "{:?}", twice.body);
    let other = create(&app, &ada, &json!({"name": "Other", "kind": "savings"})).await;
    let clash = update(
        &app,
        &ada,
        other.body["id"].as_str().unwrap(),
        &json!({"name": "Checking"}),
        None,
    )
    .await;
    assert_eq!(clash.status, 409);
    assert_eq!(count(&app, &ada, "accounts").await, 2);

    app.reset_calls();
    let long = "x".repeat(functions::accounts::MAX_NAME_LEN + 1);
    let invalid = create(
        &app,
        &ada,
        &json!({"name": long, "kind": "piggy", "opening_balance": 1_000_000_000_000_000_i64, "opening_date": "1899-12-31"}),
    )
    .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(
        invalid.invalid_fields(),
        ["name", "kind", "opening_balance", "opening_date"]
    );
    let dated = create(
        &app,
        &ada,
        &json!({"name": "Dated", "kind": "cash", "opening_date": "2026-01-01"}),
    )
    .await;
    assert_eq!(dated.invalid_fields(), ["opening_date"]);
    let unknown = create(&app, &ada, &json!({"name": "X", "kind": "cash", "balance": 5})).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(app.calls(), 0, "refused before the database");
}

#[tokio::test]
async fn only_an_unused_account_can_be_deleted() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let used = create(
        &app,
        &ada,
        &json!({"name": "Used", "kind": "checking", "opening_balance": 10}),
    )
    .await;
    let unused = create(&app, &ada, &json!({"name": "Unused", "kind": "checking"})).await;
    let refused = delete(&app, &ada, used.body["id"].as_str().unwrap()).await;
    assert_eq!(refused.status, 409);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("close it instead")
    );
    app.reset_calls();
    let deleted = delete(&app, &ada, unused.body["id"].as_str().unwrap()).await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(
        get(&app, &ada, unused.body["id"].as_str().unwrap()).await.status,
        404
    );
    assert_eq!(count(&app, &ada, "accounts").await, 1);
    assert_eq!(
        count(&app, &ada, "payees").await,
        2,
        "its transfer payee went with it"
    );
}

#[tokio::test]
async fn if_match_guards_changes_and_deletes() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let created = create(&app, &ada, &json!({"name": "Checking", "kind": "checking"})).await;
    let id = created.body["id"].as_str().unwrap();
    let version = created.header("etag").unwrap().to_owned();
    assert_eq!(get(&app, &ada, id).await.header("etag"), Some(version.as_str()));
    let first = update(&app, &ada, id, &json!({"note": "first"}), Some(&version)).await;
    assert_eq!(first.status, 200);
    let stale = update(&app, &ada, id, &json!({"note": "second"}), Some(&version)).await;
    assert_eq!(stale.status, 412);
    let request = with_if_match(
        bearer_request("DELETE", &format!("/accounts/{id}"), &ada),
        Some(&version),
    );
    let stale_delete = app.send(&functions::registry::ACCOUNTS_DELETE, request).await;
    assert_eq!(stale_delete.status, 412);
    assert_eq!(get(&app, &ada, id).await.body["note"], "first");
}

#[tokio::test]
async fn another_households_accounts_are_not_found_and_untouched() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let eve = app.register("eve@example.com").await;
    let created = create(
        &app,
        &ada,
        &json!({"name": "Checking", "kind": "checking", "opening_balance": 5}),
    )
    .await;
    let id = created.body["id"].as_str().unwrap();
    let unknown = shared::domain::AccountId::new().to_string();
    for target in [id, unknown.as_str(), "not-an-id"] {
        assert_eq!(get(&app, &eve, target).await.status, 404, "{target}");
        assert_eq!(
            update(&app, &eve, target, &json!({"name": "Mine"}), None)
                .await
                .status,
            404
        );
        assert_eq!(delete(&app, &eve, target).await.status, 404);
    }
    assert_eq!(
        list(&app, &eve, "include_closed=true").await.body["accounts"],
        json!([])
    );
    let after = get(&app, &ada, id).await;
    assert_eq!(after.body["name"], "Checking");
    assert_eq!(after.header("etag"), created.header("etag"), "nothing changed");
}

#[tokio::test]
async fn accounts_are_capped_so_the_list_stays_within_the_response_limit() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let cap = functions::accounts::MAX_ACCOUNTS;
    let ids: Vec<String> = (0..cap)
        .map(|_| shared::domain::AccountId::new().to_string())
        .collect();
    app.api
        .db()
        .execute(
            "INSERT INTO accounts (id, household_id, name, kind, note) \
             SELECT id::uuid, :household::uuid, 'Account ' || n || ' ' || repeat('x', 70), 'checking', repeat('n', 1000) \
             FROM unnest(string_to_array(:ids, ',')) WITH ORDINALITY AS t (id, n)",
            vec![
                param("household", ada["household_id"].as_str().unwrap()),
                param("ids", ids.join(",").as_str()),
            ],
        )
        .await
        .unwrap();
    let refused = create(&app, &ada, &json!({"name": "One more", "kind": "cash"})).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    let all = list(&app, &ada, "include_closed=true").await;
    assert_eq!(all.status, 200, "the largest list still fits");
    assert_eq!(all.body["accounts"].as_array().unwrap().len() as i64, cap);
}
