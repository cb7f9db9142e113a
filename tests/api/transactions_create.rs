//! Creating transactions: plain, with a new payee by name, transfers (both legs), splits, import
//! ids (one → 409, bulk → skipped and listed, also when two bulk requests race), and every refusal
//! leaving nothing behind.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request};
use serde_json::{Value, json};
use shared::db::param;

async fn create(app: &TestApp, session: &Value, body: &Value) -> harness::TestResponse {
    let request = json_request("POST", "/transactions", body, Some(access_token(session)));
    app.send(&functions::registry::TRANSACTIONS_CREATE, request).await
}

async fn account(app: &TestApp, session: &Value, body: Value) -> String {
    app.create_account(session, &body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The household's live transactions as (account, amount, payee, category, parent, transfer).
async fn stored(app: &TestApp) -> Vec<Vec<Option<String>>> {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT account_id::text, amount::text, payee_id::text, category_id::text, parent_id::text, \
                    transfer_transaction_id::text \
             FROM transactions WHERE deleted_at IS NULL ORDER BY created_at, amount",
            vec![],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| (0..6).map(|i| r.get::<Option<String>>(i).unwrap()).collect())
        .collect()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let rows = app
        .api
        .db()
        .execute(&format!("SELECT count(*) FROM {table}"), vec![])
        .await
        .unwrap();
    rows.first().unwrap().get(0).unwrap()
}

#[tokio::test]
async fn a_transaction_with_a_new_payee_is_created_in_one_call() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let category = app.first_category(&ada).await;
    app.reset_calls();
    let created = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-20", "amount": -42_500, "payee_name": "Corner Shop",
                "category_id": category, "memo": "milk", "cleared": "cleared", "import_id": "bank:1"}),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(app.calls(), 1);
    assert!(created.headers.contains_key("etag"));
    assert_eq!(created.body["payee_name"], "Corner Shop");
    let id = created.body["id"].as_str().unwrap();
    let read = app
        .send(
            &functions::registry::TRANSACTIONS_GET,
            bearer_request("GET", &format!("/transactions/{id}"), &ada),
        )
        .await;
    for key in [
        "account_id",
        "date",
        "amount",
        "payee_id",
        "payee_name",
        "category_id",
        "memo",
        "cleared",
        "import_id",
    ] {
        assert_eq!(read.body[key], created.body[key], "{key}");
    }
    // The same name again finds the payee instead of making another.
    let again = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-21", "amount": -1000, "payee_name": "Corner Shop"}),
    )
    .await;
    assert_eq!(again.body["payee_id"], created.body["payee_id"]);
    // The same import id in the account: 409, nothing added.
    let duplicate = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-22", "amount": -5, "import_id": "bank:1"}),
    )
    .await;
    assert_eq!(duplicate.status, 409, "{:?}", duplicate.body);
    assert_eq!(count(&app, "transactions").await, 2);
}

#[tokio::test]
async fn a_transfer_makes_both_legs_with_each_others_transfer_payee() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let savings = account(&app, &ada, json!({"name": "Savings", "kind": "savings"})).await;
    let brokerage = account(
        &app,
        &ada,
        json!({"name": "Brokerage", "kind": "investment", "on_budget": false}),
    )
    .await;
    let category = app.first_category(&ada).await;

    let moved = create(&app, &ada, &json!({"account_id": checking, "date": "2026-11-20", "amount": -200_000, "transfer_account_id": savings})).await;
    assert_eq!(moved.status, 201, "{:?}", moved.body);
    assert_eq!(moved.body["transfer_account_id"], savings);
    assert_eq!(moved.body["payee_name"], "Transfer : Savings");
    let legs = stored(&app).await;
    assert_eq!(legs.len(), 2);
    let (out, back) = (&legs[0], &legs[1]);
    assert_eq!(
        (out[0].as_deref(), out[1].as_deref()),
        (Some(checking.as_str()), Some("-200000"))
    );
    assert_eq!(
        (back[0].as_deref(), back[1].as_deref()),
        (Some(savings.as_str()), Some("200000"))
    );
    assert_eq!(out[5].as_deref(), moved.body["transfer_transaction_id"].as_str());
    assert_eq!(back[5].as_deref(), moved.body["id"].as_str());
    let accounts = app
        .send(
            &functions::registry::ACCOUNTS_LIST,
            bearer_request("GET", "/accounts", &ada),
        )
        .await;
    let balance = |id: &str| {
        accounts.body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap()["balance"]
            .clone()
    };
    assert_eq!(
        (balance(&checking), balance(&savings)),
        (json!(-200_000), json!(200_000))
    );

    // Between two on-budget accounts: no category.
    let refused = create(&app, &ada, &json!({"account_id": checking, "date": "2026-11-20", "amount": -1, "transfer_account_id": savings, "category_id": category})).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.invalid_fields(), ["category_id"]);
    // To an off-budget account, named by its transfer payee: spending, with the category on the
    // on-budget leg.
    let payees = app
        .send(
            &functions::registry::PAYEES_LIST,
            bearer_request("GET", "/payees", &ada),
        )
        .await;
    let to_brokerage = payees.body["payees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["transfer_account_id"] == brokerage)
        .unwrap()["id"]
        .clone();
    let invested = create(&app, &ada, &json!({"account_id": checking, "date": "2026-11-21", "amount": -50_000, "payee_id": to_brokerage, "category_id": category})).await;
    assert_eq!(invested.status, 201, "{:?}", invested.body);
    assert_eq!(invested.body["transfer_account_id"], brokerage);
    assert_eq!(invested.body["category_id"], category);
    let legs = stored(&app).await;
    assert_eq!(legs.len(), 4);
    assert_eq!(legs[3][0].as_deref(), Some(brokerage.as_str()));
    assert_eq!(legs[3][3], None, "the off-budget leg has no category");
}

#[tokio::test]
async fn a_split_makes_its_lines_and_must_add_up() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let category = app.first_category(&ada).await;
    let lines = json!([{"amount": -7_000, "category_id": category, "memo": "food"}, {"amount": -3_000}]);
    let split = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-20", "amount": -10_000, "subtransactions": lines}),
    )
    .await;
    assert_eq!(split.status, 201, "{:?}", split.body);
    assert_eq!(split.body["subtransactions"].as_array().unwrap().len(), 2);
    let id = split.body["id"].as_str().unwrap();
    let rows = stored(&app).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.iter().filter(|r| r[4].as_deref() == Some(id)).count(), 2);

    let short = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-20", "amount": -10_001, "subtransactions": lines}),
    )
    .await;
    assert_eq!(short.status, 422);
    let message = short.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("sum to -10000") && message.contains("difference of -1)"),
        "{message}"
    );
    let both = create(&app, &ada, &json!({"account_id": checking, "date": "2026-11-20", "amount": -10_000, "category_id": category, "subtransactions": lines})).await;
    assert_eq!(both.invalid_fields(), ["category_id"]);
    assert_eq!(count(&app, "transactions").await, 3);
}

#[tokio::test]
async fn invalid_foreign_and_closed_references_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let old = app.closed_account(&ada, "Old").await;
    let bobs_account = account(&app, &bob, json!({"name": "Checking", "kind": "checking"})).await;
    let bobs_category = app.first_category(&bob).await;
    let payees_before = count(&app, "payees").await;

    let cases = [
        (
            json!({"account_id": bobs_account, "date": "2026-11-20", "amount": -1}),
            "account_id",
        ),
        (
            json!({"account_id": checking, "date": "2026-11-20", "amount": -1, "category_id": bobs_category}),
            "category_id",
        ),
        (
            json!({"account_id": checking, "date": "2026-11-20", "amount": -1, "transfer_account_id": bobs_account}),
            "transfer_account_id",
        ),
        (
            json!({"account_id": old, "date": "2026-11-20", "amount": -1}),
            "account_id",
        ),
        (
            json!({"account_id": checking, "date": "2026-11-20", "amount": -1, "transfer_account_id": checking}),
            "transfer_account_id",
        ),
    ];
    for (body, field) in cases {
        let answer = create(&app, &ada, &body).await;
        assert_eq!(answer.status, 422, "{body}: {:?}", answer.body);
        assert_eq!(answer.invalid_fields(), [field], "{body}");
    }
    let everything_wrong = create(
        &app,
        &ada,
        &json!({"account_id": "x", "date": "2200-01-01", "amount": 1_000_000_000_000_000_i64, "memo": "m".repeat(501),
                "import_id": "i".repeat(37), "cleared": "sometimes", "payee_id": "y", "payee_name": "Both"}),
    )
    .await;
    assert_eq!(everything_wrong.status, 422);
    assert_eq!(
        everything_wrong.invalid_fields(),
        [
            "account_id",
            "date",
            "amount",
            "payee_id",
            "cleared",
            "memo",
            "import_id",
            "payee_name"
        ]
    );
    // A bulk request with one bad transaction stores none, and names it by its place.
    let bulk = create(
        &app,
        &ada,
        &json!({"transactions": [
            {"account_id": checking, "date": "2026-11-20", "amount": -1, "payee_name": "New Payee"},
            {"account_id": checking, "date": "2026-11-20", "amount": -1, "category_id": bobs_category}
        ]}),
    )
    .await;
    assert_eq!(bulk.invalid_fields(), ["transactions[1].category_id"]);
    assert_eq!(count(&app, "transactions").await, 0);
    assert_eq!(count(&app, "payees").await, payees_before);
}

#[tokio::test]
async fn bulk_requests_skip_and_list_duplicate_import_ids_even_when_racing() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let row = |import: &str, amount: i64| json!({"account_id": checking, "date": "2026-11-20", "amount": amount, "import_id": import});
    let first = create(&app, &ada, &json!({"transactions": [row("a", -1), row("b", -2)]})).await;
    assert_eq!(first.status, 201, "{:?}", first.body);

    app.reset_calls();
    let second = create(
        &app,
        &ada,
        &json!({"transactions": [row("b", -3), row("c", -4), row("c", -5), row("d", -6)]}),
    )
    .await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(second.body["duplicate_import_ids"], json!(["b", "c"]));
    let kept: Vec<i64> = second.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(kept, [-4, -6]);

    // Two requests with the same new ids at once: each id is stored once.
    let batch = json!({"transactions": (0..50).map(|i| row(&format!("race-{i}"), -i)).collect::<Vec<_>>()});
    let (x, y) = tokio::join!(create(&app, &ada, &batch), create(&app, &ada, &batch));
    assert_eq!((x.status, y.status), (201, 201));
    let stored_once =
        x.body["transactions"].as_array().unwrap().len() + y.body["transactions"].as_array().unwrap().len();
    assert_eq!(stored_once, 50);
    let rows = app
        .api
        .db()
        .execute(
            "SELECT count(*), count(DISTINCT import_id) FROM transactions WHERE import_id LIKE 'race-%' AND account_id = :a::uuid",
            vec![param("a", checking.as_str())],
        )
        .await
        .unwrap();
    let row0 = rows.first().unwrap();
    assert_eq!(
        (row0.get::<i64>(0).unwrap(), row0.get::<i64>(1).unwrap()),
        (50, 50)
    );
}

/// A bulk request of 500 transactions, each split in `lines` lines, every memo `memo`.
fn maximal(account: &str, category: &str, memo: &str, lines: usize) -> Value {
    let line = json!({"amount": -1000, "category_id": category, "memo": memo});
    let batch: Vec<Value> = (0..500)
        .map(|i| {
            json!({"account_id": account, "date": "2026-11-20", "amount": -1000 * lines as i64,
                   "memo": memo, "import_id": format!("max-{i}"), "subtransactions": vec![line.clone(); lines]})
        })
        .collect();
    json!({ "transactions": batch })
}

#[tokio::test]
async fn a_maximal_bulk_request_is_stored_in_one_call_within_the_data_apis_limits() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let category = app.first_category(&ada).await;
    // Every memo at 500 characters of four bytes: 1,500 memos are 3 MB, and the request to the
    // Data API (3.4 MB with ids and field names) stays under its 4 MiB.
    let body = maximal(&checking, &category, &"𝄞".repeat(500), 2);
    assert!(body.to_string().len() > 3_000_000);
    app.reset_calls();
    let stored = create(&app, &ada, &body).await;
    assert_eq!(stored.status, 201, "{:?}", stored.body.to_string().get(..300));
    assert_eq!(app.calls(), 1);
    assert_eq!(stored.body["transactions"].as_array().unwrap().len(), 500);
    assert_eq!(count(&app, "transactions").await, 1_500);
}

#[tokio::test]
async fn a_bulk_request_too_large_for_the_data_api_is_refused_before_it_is_sent() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let category = app.first_category(&ada).await;
    // Quotes double at every JSON encoding: 2,500 memos of 500 quotes are 2.5 MB in the body but
    // 5 MB in the Data API request.
    let body = maximal(&checking, &category, &"\"".repeat(500), 4);
    assert!(body.to_string().len() < 4 * 1024 * 1024);
    app.reset_calls();
    let refused = create(&app, &ada, &body).await;
    assert_eq!(refused.status, 413, "{:?}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("encoded for the database")
    );
    assert_eq!(app.calls(), 0);
    assert_eq!(count(&app, "transactions").await, 0);
}

#[tokio::test]
async fn the_largest_split_is_read_back_within_the_row_limit() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let category = app.first_category(&ada).await;
    let memo = "𝄞".repeat(500);
    let line = json!({"amount": -1000, "category_id": category, "memo": memo});
    let lines = functions::transactions::body::MAX_LINES;
    let split = json!({"account_id": checking, "date": "2026-11-20", "amount": -1000 * lines as i64, "memo": memo,
                       "subtransactions": vec![line.clone(); lines]});
    let created = create(&app, &ada, &split).await;
    assert_eq!(created.status, 201, "{:?}", created.body.to_string().get(..300));
    let id = created.body["id"].as_str().unwrap();
    let read = app
        .send(
            &functions::registry::TRANSACTIONS_GET,
            bearer_request("GET", &format!("/transactions/{id}"), &ada),
        )
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["subtransactions"].as_array().unwrap().len(), lines);
    let listed = app
        .send(
            &functions::registry::TRANSACTIONS_LIST,
            bearer_request("GET", "/transactions", &ada),
        )
        .await;
    assert_eq!(listed.status, 200);
    // One line more is refused when created.
    let mut more = split.clone();
    more["amount"] = json!(-1000 * (lines as i64 + 1));
    more["subtransactions"] = json!(vec![line; lines + 1]);
    assert_eq!(
        create(&app, &ada, &more).await.invalid_fields(),
        ["subtransactions"]
    );
}

#[tokio::test]
async fn an_answer_larger_than_the_data_api_returns_writes_nothing() {
    let app = TestApp::spawn().await.unwrap();
    // Quotes are escaped at each JSON encoding: in the kept record, then in the Data API's answer.
    let quotes = "\"".repeat(100);
    let registered = app
        .post_register(
            &json!({"email": "ada@example.com", "password": "correct horse battery", "display_name": quotes}),
        )
        .await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let ada = registered.body;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let lines = functions::transactions::body::MAX_LINES;
    let line = json!({"amount": -1000});
    let split = json!({"account_id": checking, "date": "2026-11-20", "amount": -1000 * lines as i64,
                       "payee_name": quotes, "subtransactions": vec![line; lines]});
    let body = json!({"transactions": vec![split; 500]});
    let key = lambda_http::http::HeaderValue::from_static("too-large");
    let mut request = json_request("POST", "/transactions", &body, Some(access_token(&ada)));
    request.headers_mut().insert("idempotency-key", key.clone());
    app.reset_calls();
    let refused = app.send(&functions::registry::TRANSACTIONS_CREATE, request).await;
    assert_eq!((refused.status, app.calls()), (413, 1), "{:?}", refused.body);
    assert_eq!(refused.body["type"], "/problems/answer-too-large");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("nothing was written")
    );
    assert_eq!(count(&app, "transactions").await, 0);
    assert_eq!(
        count(&app, "payees").await,
        1,
        "only the account's transfer payee"
    );

    // The key was not used up: a smaller request with it runs.
    let smaller = json!({"transactions": vec![body["transactions"][0].clone(); 10]});
    let mut request = json_request("POST", "/transactions", &smaller, Some(access_token(&ada)));
    request.headers_mut().insert("idempotency-key", key);
    let stored = app.send(&functions::registry::TRANSACTIONS_CREATE, request).await;
    assert_eq!(stored.status, 201, "{:?}", stored.body);
    assert_eq!(count(&app, "transactions").await, 10 * (1 + lines as i64));
}

#[tokio::test]
async fn text_with_control_characters_is_refused_before_the_database() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let body = json!({"account_id": checking, "date": "2026-11-20", "amount": -1000,
                      "memo": "line one\nline two\u{1}", "payee_name": "Corner\u{7}Shop"});
    app.reset_calls();
    let refused = create(&app, &ada, &body).await;
    assert_eq!(
        refused.invalid_fields(),
        ["payee_name", "memo"],
        "{:?}",
        refused.body
    );
    assert_eq!(app.calls(), 0);
    let kept = json!({"account_id": checking, "date": "2026-11-20", "amount": -1000, "memo": "line one\nline two\t"});
    assert_eq!(create(&app, &ada, &kept).await.status, 201);
}

#[tokio::test]
async fn a_bulk_request_with_a_problem_in_every_transaction_names_them_all() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    // An import into an account and a category that are gone: two problems per transaction.
    let gone = "01a25190-0000-7000-8000-000000000000";
    let item = json!({"account_id": gone, "category_id": gone, "date": "2026-11-20", "amount": -1000});
    let body = json!({"transactions": vec![item; 500]});
    app.reset_calls();
    let refused = create(&app, &ada, &body).await;
    assert_eq!(
        (refused.status, app.calls()),
        (422, 1),
        "{:?}",
        refused.body.get("detail")
    );
    let fields = refused.invalid_fields();
    assert_eq!(fields.len(), 1_000);
    assert_eq!(
        fields[..2],
        ["transactions[0].account_id", "transactions[0].category_id"]
    );
    assert_eq!(
        fields[998..],
        ["transactions[499].account_id", "transactions[499].category_id"]
    );
    assert_eq!(count(&app, "transactions").await, 0);
}
