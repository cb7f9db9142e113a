//! Editing transactions: only what is sent changes, `If-Match`, transfers whose other leg follows
//! (amount, date, account, a new transfer account, no transfer at all), split lines replaced all
//! at once and following their parent, and every refusal (foreign, unknown or malformed ids in the
//! path and the body, closed accounts, lines that do not add up) leaving the database as it was.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request};
use serde_json::{Value, json};
use shared::db::param;
use shared::domain::TransactionId;

async fn create(app: &TestApp, session: &Value, body: &Value) -> Value {
    let request = json_request("POST", "/transactions", body, Some(access_token(session)));
    let created = app.send(&functions::registry::TRANSACTIONS_CREATE, request).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body
}

async fn patch(
    app: &TestApp,
    session: &Value,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> harness::TestResponse {
    let path = format!("/transactions/{id}");
    app.send_json_if_match(
        &functions::registry::TRANSACTIONS_UPDATE,
        "PATCH",
        &path,
        session,
        body,
        if_match,
    )
    .await
}

async fn get(app: &TestApp, session: &Value, id: &str) -> harness::TestResponse {
    let request = bearer_request("GET", &format!("/transactions/{id}"), session);
    app.send(&functions::registry::TRANSACTIONS_GET, request).await
}

async fn account(app: &TestApp, session: &Value, body: Value) -> String {
    app.create_account(session, &body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The ids of the household's first `n` categories.
async fn categories(app: &TestApp, session: &Value, n: usize) -> Vec<String> {
    let groups = app
        .send(
            &functions::registry::CATEGORY_GROUPS_LIST,
            bearer_request("GET", "/category-groups", session),
        )
        .await;
    let ids: Vec<String> = groups.body["category_groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["categories"].as_array().unwrap().iter())
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .take(n)
        .collect();
    assert_eq!(ids.len(), n);
    ids
}

/// One transaction row, straight from the database, as text by column.
async fn row(app: &TestApp, id: &str) -> Value {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT row_to_json(t)::text FROM transactions t WHERE id = :id::uuid",
            vec![param("id", id)],
        )
        .await
        .unwrap();
    serde_json::from_str(&rows.first().unwrap().get::<String>(0).unwrap()).unwrap()
}

/// Every transaction and payee row, to show that a refused request changed nothing.
async fn everything(app: &TestApp) -> String {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT (SELECT json_agg(t ORDER BY id) FROM transactions t)::text, \
                    (SELECT json_agg(p ORDER BY id) FROM payees p)::text",
            vec![],
        )
        .await
        .unwrap();
    let first = rows.first().unwrap();
    format!(
        "{}{}",
        first.get::<String>(0).unwrap(),
        first.get::<String>(1).unwrap()
    )
}

/// The live split lines of `parent` (id, amount, category, date, account, cleared), oldest first.
async fn live_lines(app: &TestApp, parent: &str) -> Vec<Value> {
    let rows = app
        .api
        .db()
        .execute(
            "SELECT json_build_object('id', id, 'amount', amount, 'category_id', category_id, \
               'date', date, 'account_id', account_id, 'cleared', cleared)::text \
             FROM transactions WHERE parent_id = :id::uuid AND deleted_at IS NULL ORDER BY id",
            vec![param("id", parent)],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| serde_json::from_str(&r.get::<String>(0).unwrap()).unwrap())
        .collect()
}

fn etag(response: &harness::TestResponse) -> String {
    response.header("etag").unwrap().to_owned()
}

#[tokio::test]
async fn only_what_is_sent_changes_in_one_call_and_if_match_guards_it() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let [groceries, rent] = <[String; 2]>::try_from(categories(&app, &ada, 2).await).unwrap();
    let created = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-20", "amount": -42_500, "payee_name": "Corner Shop",
                "category_id": groceries, "memo": "milk", "import_id": "bank:1"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let first_tag = etag(&get(&app, &ada, &id).await);

    app.reset_calls();
    let edited = patch(
        &app,
        &ada,
        &id,
        &json!({"memo": "oat milk", "cleared": "cleared"}),
        None,
    )
    .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(edited.body["memo"], "oat milk");
    assert_eq!(edited.body["cleared"], "cleared");
    for unchanged in [
        "amount",
        "date",
        "payee_id",
        "payee_name",
        "category_id",
        "import_id",
        "approved",
    ] {
        assert_eq!(edited.body[unchanged], created[unchanged], "{unchanged}");
    }
    let second_tag = etag(&edited);
    assert_ne!(second_tag, first_tag);
    assert_eq!(
        get(&app, &ada, &id).await.body,
        edited.body,
        "GET shows what PATCH answered"
    );

    // A stale version is refused and changes nothing; the current one is taken.
    let before = everything(&app).await;
    let stale = patch(&app, &ada, &id, &json!({"amount": -1}), Some(&first_tag)).await;
    assert_eq!(stale.status, 412);
    assert_eq!(everything(&app).await, before);
    let renamed = patch(
        &app,
        &ada,
        &id,
        &json!({"payee_name": "Bakery", "amount": -1_250, "date": "2026-11-21", "category_id": rent,
                "approved": true, "import_id": null, "memo": null}),
        Some(&second_tag),
    )
    .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(renamed.body["payee_name"], "Bakery");
    assert_ne!(renamed.body["payee_id"], created["payee_id"]);
    assert_eq!(renamed.body["amount"], -1_250);
    assert_eq!(renamed.body["date"], "2026-11-21");
    assert_eq!(renamed.body["category_id"], json!(rent));
    assert_eq!(renamed.body["approved"], true);
    assert_eq!(renamed.body["import_id"], Value::Null);
    assert_eq!(renamed.body["memo"], Value::Null);
    let stored = row(&app, &id).await;
    assert_eq!(stored["payee_id"], renamed.body["payee_id"]);
    assert_eq!(stored["amount"], -1_250);
    assert_eq!(stored["memo"], Value::Null);

    // Clearing the payee and the category.
    let cleared = patch(
        &app,
        &ada,
        &id,
        &json!({"payee_id": null, "category_id": null}),
        None,
    )
    .await;
    assert_eq!(cleared.status, 200, "{:?}", cleared.body);
    assert_eq!(cleared.body["payee_id"], Value::Null);
    assert_eq!(cleared.body["payee_name"], Value::Null);
    assert_eq!(cleared.body["category_id"], Value::Null);

    // Nothing to change, unknown fields, bad values: 422 naming the field; an import_id the
    // account already has: 409. Nothing changes.
    create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-22", "amount": -1, "import_id": "bank:2"}),
    )
    .await;
    let before = everything(&app).await;
    let cases = [
        (json!({}), "body"),
        (json!({"colour": "red"}), "colour"),
        (json!({"amount": 1_000_000_000_000_000_i64}), "amount"),
        (json!({"date": "2200-01-01"}), "date"),
        (json!({"cleared": "maybe"}), "cleared"),
        (json!({"memo": "m".repeat(501)}), "memo"),
        (json!({"import_id": "i".repeat(37)}), "import_id"),
        (json!({"payee_id": null, "payee_name": "Both"}), "payee_name"),
        (
            json!({"transfer_account_id": checking, "payee_name": "Both"}),
            "transfer_account_id",
        ),
        (json!({"subtransactions": [{"amount": -1}]}), "subtransactions"),
    ];
    for (body, field) in cases {
        let refused = patch(&app, &ada, &id, &body, None).await;
        assert_eq!(refused.status, 422, "{body}: {:?}", refused.body);
        assert!(
            refused.invalid_fields().contains(&field),
            "{body}: {:?}",
            refused.body
        );
    }
    let duplicate = patch(&app, &ada, &id, &json!({"import_id": "bank:2"}), None).await;
    assert_eq!(duplicate.status, 409, "{:?}", duplicate.body);
    assert_eq!(everything(&app).await, before);
}

#[tokio::test]
async fn a_transfers_other_leg_follows_every_edit_of_either_leg() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let savings = account(&app, &ada, json!({"name": "Savings", "kind": "savings"})).await;
    let cash = account(&app, &ada, json!({"name": "Cash", "kind": "cash"})).await;
    let brokerage = account(
        &app,
        &ada,
        json!({"name": "Brokerage", "kind": "investment", "on_budget": false}),
    )
    .await;
    let category = categories(&app, &ada, 1).await.remove(0);
    let out = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-01", "amount": -50_000, "transfer_account_id": savings}),
    )
    .await;
    let out_id = out["id"].as_str().unwrap().to_owned();
    let back_id = out["transfer_transaction_id"].as_str().unwrap().to_owned();
    let transfer_payee = |account: &str| {
        let app = &app;
        let account = account.to_owned();
        async move {
            let rows = app
                .api
                .db()
                .execute(
                    "SELECT id::text FROM payees WHERE transfer_account_id = :a::uuid",
                    vec![param("a", account.as_str())],
                )
                .await
                .unwrap();
            rows.first().unwrap().get::<String>(0).unwrap()
        }
    };

    // Amount and date on one leg: the other follows, in the same call.
    app.reset_calls();
    let edited = patch(
        &app,
        &ada,
        &out_id,
        &json!({"amount": -70_000, "date": "2026-11-05"}),
        None,
    )
    .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(app.calls(), 1);
    let back = row(&app, &back_id).await;
    assert_eq!(
        (back["amount"].clone(), back["date"].clone()),
        (json!(70_000), json!("2026-11-05"))
    );
    let from_the_other_side = patch(&app, &ada, &back_id, &json!({"amount": 60_000}), None).await;
    assert_eq!(from_the_other_side.status, 200);
    assert_eq!(row(&app, &out_id).await["amount"], -60_000);

    // A category on a transfer between two on-budget accounts is refused.
    let refused = patch(&app, &ada, &out_id, &json!({"category_id": category}), None).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.invalid_fields(), ["category_id"]);

    // Another transfer account: a new other leg there, the old one a tombstone; to an off-budget
    // account the on-budget leg may take a category.
    let moved = patch(
        &app,
        &ada,
        &out_id,
        &json!({"transfer_account_id": brokerage, "category_id": category}),
        None,
    )
    .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["transfer_account_id"], json!(brokerage));
    assert_eq!(moved.body["payee_id"], json!(transfer_payee(&brokerage).await));
    assert_eq!(moved.body["payee_name"], "Transfer : Brokerage");
    assert_eq!(moved.body["category_id"], json!(category));
    assert_ne!(row(&app, &back_id).await["deleted_at"], Value::Null);
    let new_back_id = moved.body["transfer_transaction_id"].as_str().unwrap().to_owned();
    let new_back = row(&app, &new_back_id).await;
    assert_eq!(new_back["account_id"], json!(brokerage));
    assert_eq!(new_back["amount"], 60_000);
    assert_eq!(new_back["date"], "2026-11-05");
    assert_eq!(new_back["payee_id"], json!(transfer_payee(&checking).await));
    assert_eq!(new_back["transfer_transaction_id"], json!(out_id));

    // This leg into another account: the other leg's payee becomes that account's.
    let rehomed = patch(&app, &ada, &out_id, &json!({"account_id": cash}), None).await;
    assert_eq!(rehomed.status, 200, "{:?}", rehomed.body);
    assert_eq!(
        row(&app, &new_back_id).await["payee_id"],
        json!(transfer_payee(&cash).await)
    );
    assert_eq!(row(&app, &out_id).await["account_id"], json!(cash));
    // Into the account it transfers to: refused.
    let onto_itself = patch(&app, &ada, &out_id, &json!({"account_id": brokerage}), None).await;
    assert_eq!(onto_itself.status, 422);
    assert_eq!(onto_itself.invalid_fields(), ["account_id"]);

    // No longer a transfer: the other leg goes, this one takes an ordinary payee.
    let ordinary = patch(
        &app,
        &ada,
        &out_id,
        &json!({"transfer_account_id": null, "payee_name": "Landlord"}),
        None,
    )
    .await;
    assert_eq!(ordinary.status, 200, "{:?}", ordinary.body);
    assert_eq!(ordinary.body["transfer_transaction_id"], Value::Null);
    assert_eq!(ordinary.body["transfer_account_id"], Value::Null);
    assert_eq!(ordinary.body["payee_name"], "Landlord");
    assert_ne!(row(&app, &new_back_id).await["deleted_at"], Value::Null);

    // And a transfer again, through the other account's transfer payee.
    let again = patch(
        &app,
        &ada,
        &out_id,
        &json!({"payee_id": transfer_payee(&savings).await, "category_id": null}),
        None,
    )
    .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["transfer_account_id"], json!(savings));
    let leg = row(&app, again.body["transfer_transaction_id"].as_str().unwrap()).await;
    assert_eq!(leg["account_id"], json!(savings));
    assert_eq!(leg["amount"], 60_000);

    // Both accounts' live rows always balance each other out.
    let rows = app
        .api
        .db()
        .execute(
            "SELECT coalesce(sum(amount), 0)::bigint FROM transactions WHERE deleted_at IS NULL",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(rows.first().unwrap().get::<i64>(0).unwrap(), 0);
}

#[tokio::test]
async fn split_lines_are_replaced_all_at_once_and_follow_their_parent() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let savings = account(&app, &ada, json!({"name": "Savings", "kind": "savings"})).await;
    let [a, b, c] = <[String; 3]>::try_from(categories(&app, &ada, 3).await).unwrap();
    let bobs_category = categories(&app, &bob, 1).await.remove(0);
    let split = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-10", "amount": -3_000,
                "subtransactions": [{"amount": -2_000, "category_id": a}, {"amount": -1_000, "category_id": b}]}),
    )
    .await;
    let id = split["id"].as_str().unwrap().to_owned();
    let first_lines: Vec<Value> = live_lines(&app, &id).await;

    // Three new lines in place of the two, in one call; the old ones are tombstones.
    let new_lines = [(-1_500, &a), (-1_000, &b), (-500, &c)];
    app.reset_calls();
    let replaced = patch(
        &app,
        &ada,
        &id,
        &json!({"subtransactions": new_lines.iter().map(|(amount, category)| json!({"amount": amount, "category_id": category})).collect::<Vec<_>>()}),
        None,
    )
    .await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(app.calls(), 1);
    let lines = live_lines(&app, &id).await;
    let amounts: Vec<i64> = lines.iter().map(|l| l["amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts, new_lines.map(|(amount, _)| amount));
    for old in &first_lines {
        assert_ne!(
            row(&app, old["id"].as_str().unwrap()).await["deleted_at"],
            Value::Null
        );
    }
    let shown: Vec<&Value> = replaced.body["subtransactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["id"])
        .collect();
    let stored: Vec<&Value> = lines.iter().map(|l| &l["id"]).collect();
    assert_eq!(shown, stored);
    assert_eq!(get(&app, &ada, &id).await.body, replaced.body);

    // Lines that do not add up, an amount the lines no longer add up to, a category on the split
    // itself, another household's category on a line, a transfer of a split: refused, nothing
    // changes. The test works out the difference itself.
    let before = everything(&app).await;
    let short = [(-1_500, &a), (-1_000, &b)];
    let sum: i64 = short.iter().map(|(amount, _)| amount).sum();
    let not_adding_up = patch(
        &app,
        &ada,
        &id,
        &json!({"subtransactions": short.iter().map(|(amount, category)| json!({"amount": amount, "category_id": category})).collect::<Vec<_>>()}),
        None,
    )
    .await;
    assert_eq!(not_adding_up.status, 422);
    assert_eq!(not_adding_up.invalid_fields(), ["subtransactions"]);
    let message = not_adding_up.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("a difference of {}", -3_000 - sum)),
        "{message}"
    );
    let new_amount = patch(&app, &ada, &id, &json!({"amount": -4_000}), None).await;
    assert_eq!(new_amount.status, 422);
    assert_eq!(new_amount.invalid_fields(), ["amount"]);
    let own_category = patch(&app, &ada, &id, &json!({"category_id": a}), None).await;
    assert_eq!(own_category.invalid_fields(), ["category_id"]);
    let foreign = patch(
        &app,
        &ada,
        &id,
        &json!({"subtransactions": [{"amount": -1_000, "category_id": a}, {"amount": -2_000, "category_id": bobs_category}]}),
        None,
    )
    .await;
    assert_eq!(foreign.status, 422);
    assert_eq!(foreign.invalid_fields(), ["subtransactions[1].category_id"]);
    let transfer = patch(&app, &ada, &id, &json!({"transfer_account_id": savings}), None).await;
    assert_eq!(transfer.status, 422);
    assert_eq!(transfer.invalid_fields(), ["transfer_account_id"]);
    assert_eq!(everything(&app).await, before);

    // A new amount with lines that add up to it; then a new date, account and cleared state,
    // which every line follows.
    let bigger = patch(
        &app,
        &ada,
        &id,
        &json!({"amount": -4_000, "subtransactions": [{"amount": -3_000, "category_id": a}, {"amount": -1_000}]}),
        None,
    )
    .await;
    assert_eq!(bigger.status, 200, "{:?}", bigger.body);
    let moved = patch(
        &app,
        &ada,
        &id,
        &json!({"date": "2026-10-01", "account_id": savings, "cleared": "reconciled"}),
        None,
    )
    .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    let lines = live_lines(&app, &id).await;
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert_eq!(line["date"], "2026-10-01");
        assert_eq!(line["account_id"], json!(savings));
        assert_eq!(line["cleared"], "reconciled");
    }

    // No lines: an ordinary transaction again, which may take a category.
    let unsplit = patch(
        &app,
        &ada,
        &id,
        &json!({"subtransactions": [], "category_id": c}),
        None,
    )
    .await;
    assert_eq!(unsplit.status, 200, "{:?}", unsplit.body);
    assert_eq!(unsplit.body["subtransactions"], json!([]));
    assert_eq!(unsplit.body["category_id"], json!(c));
    assert!(live_lines(&app, &id).await.is_empty());

    // Lines an edit replaced no longer put the transaction in their categories.
    let listed = |category: &String| {
        let request = harness::app::with_query(
            bearer_request("GET", "/transactions", &ada),
            &[("category_id", category.as_str())],
        );
        app.send(&functions::registry::TRANSACTIONS_LIST, request)
    };
    assert_eq!(listed(&b).await.body["transactions"], json!([]));
    assert_eq!(listed(&c).await.body["transactions"][0]["id"], json!(id));
}

#[tokio::test]
async fn foreign_unknown_and_malformed_ids_are_refused_alike_and_change_nothing() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let checking = account(&app, &ada, json!({"name": "Checking", "kind": "checking"})).await;
    let old = app.closed_account(&ada, "Old").await;
    let bobs_account = account(&app, &bob, json!({"name": "Checking", "kind": "checking"})).await;
    let bobs_category = categories(&app, &bob, 1).await.remove(0);
    let bobs_payee = app
        .send_json(
            &functions::registry::PAYEES_CREATE,
            "POST",
            "/payees",
            &bob,
            &json!({"name": "Bob's shop"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let split = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-10", "amount": -3_000,
                "subtransactions": [{"amount": -2_000}, {"amount": -1_000}]}),
    )
    .await;
    let line = split["subtransactions"][0]["id"].as_str().unwrap().to_owned();
    let id = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-10", "amount": -3_000}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone = create(
        &app,
        &ada,
        &json!({"account_id": checking, "date": "2026-11-10", "amount": -3_000}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = app
        .send(
            &functions::registry::TRANSACTIONS_DELETE,
            bearer_request("DELETE", &format!("/transactions/{gone}"), &ada),
        )
        .await;
    assert_eq!(deleted.status, 204);
    let before = everything(&app).await;

    // In the path: another household's, unknown, malformed, a split line, deleted: 404 alike.
    let memo = json!({"memo": "mine now"});
    assert_eq!(patch(&app, &bob, &id, &memo, None).await.status, 404);
    for path_id in [
        TransactionId::new().to_string(),
        "not-a-uuid".to_owned(),
        line,
        gone,
    ] {
        let refused = patch(&app, &ada, &path_id, &memo, None).await;
        assert_eq!(refused.status, 404, "{path_id}");
        assert_eq!(refused.body["status"], 404);
    }

    // In the body: 422 naming the field, whether foreign, unknown or malformed.
    let unknown = TransactionId::new().to_string();
    for (field, value) in [
        ("account_id", bobs_account.as_str()),
        ("account_id", unknown.as_str()),
        ("account_id", "not-a-uuid"),
        ("account_id", old.as_str()),
        ("category_id", bobs_category.as_str()),
        ("category_id", unknown.as_str()),
        ("payee_id", bobs_payee.as_str()),
        ("payee_id", unknown.as_str()),
        ("transfer_account_id", bobs_account.as_str()),
        ("transfer_account_id", old.as_str()),
        ("transfer_account_id", checking.as_str()),
    ] {
        let refused = patch(&app, &ada, &id, &json!({ field: value }), None).await;
        assert_eq!(refused.status, 422, "{field} {value}: {:?}", refused.body);
        assert_eq!(refused.invalid_fields(), [field], "{field} {value}");
    }
    assert_eq!(everything(&app).await, before);
}
