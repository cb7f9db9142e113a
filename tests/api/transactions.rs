//! Reading transactions: pages that return every row exactly once (also while rows are added
//! between pages), filters, tombstones, splits with their lines, the 1 MiB limit at the largest
//! page, and other households' rows and cursors kept out. Rows are inserted through the Data API
//! here (the endpoints that create them come next).

use std::collections::BTreeSet;

use harness::TestApp;
use harness::app::{bearer_request, with_if_match, with_query};
use serde_json::{Value, json};
use shared::db::param;
use shared::domain::TransactionId;

/// A new account of `session`'s household; answers its id.
async fn account(app: &TestApp, session: &Value, name: &str, kind: &str) -> String {
    let created = app
        .create_account(session, &json!({"name": name, "kind": kind}))
        .await;
    created.body["id"].as_str().unwrap().to_owned()
}

async fn page(app: &TestApp, session: &Value, query: &[(&str, &str)]) -> harness::TestResponse {
    let request = with_query(bearer_request("GET", "/transactions", session), query);
    app.send(&functions::registry::TRANSACTIONS_LIST, request).await
}

async fn get(app: &TestApp, session: &Value, id: &str) -> harness::TestResponse {
    let request = bearer_request("GET", &format!("/transactions/{id}"), session);
    app.send(&functions::registry::TRANSACTIONS_GET, request).await
}

/// Inserts `count` transactions into `account`, dated back from 2026-11-30 a few a day, in one
/// statement; `memo` is repeated as each one's memo.
async fn insert_many(app: &TestApp, session: &Value, account: &str, count: i64, memo: Option<&str>) {
    // Ids are UUIDv7, as the service makes them; PostgreSQL 15 cannot, so they come from here.
    let ids: Vec<String> = (0..count).map(|_| TransactionId::new().to_string()).collect();
    app.api
        .db()
        .execute(
            "INSERT INTO transactions (id, household_id, account_id, date, amount, memo, created_by) \
             SELECT id::uuid, :household::uuid, :account::uuid, date '2026-11-30' - ((i - 1) / 3)::int, \
                    -i * 10, :memo, :user::uuid \
             FROM jsonb_array_elements_text(:ids::jsonb) WITH ORDINALITY AS new (id, i)",
            vec![
                param("household", session["household_id"].as_str().unwrap()),
                param("account", account),
                param("ids", &serde_json::to_string(&ids).unwrap()),
                param("memo", &memo),
                param("user", session["user_id"].as_str().unwrap()),
            ],
        )
        .await
        .unwrap();
}

/// One transaction: a purchase of 1.000 on 2026-06-15, with `columns` (name, value) instead or
/// as well; answers its id.
async fn insert_one(app: &TestApp, session: &Value, account: &str, columns: &[(&str, Value)]) -> String {
    let id = TransactionId::new().to_string();
    let mut set: Vec<(String, String)> = [
        ("id", id.clone()),
        (
            "household_id",
            session["household_id"].as_str().unwrap().to_owned(),
        ),
        ("account_id", account.to_owned()),
        ("date", "2026-06-15".to_owned()),
        ("amount", "-1000".to_owned()),
        ("created_by", session["user_id"].as_str().unwrap().to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (column, value) in columns {
        let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        set.retain(|(k, _)| k != column);
        set.push(((*column).to_owned(), text));
    }
    // Every value goes in as text and is cast to the column's type.
    let names: Vec<&str> = set.iter().map(|(k, _)| k.as_str()).collect();
    let values: Vec<String> = names
        .iter()
        .map(|k| {
            let cast = match *k {
                "date" => "date",
                "amount" => "bigint",
                "deleted_at" => "timestamptz",
                "memo" | "cleared" => "text",
                _ => "uuid",
            };
            format!(":{k}::{cast}")
        })
        .collect();
    let sql = format!(
        "INSERT INTO transactions ({}) VALUES ({})",
        names.join(", "),
        values.join(", ")
    );
    let params = set.iter().map(|(k, v)| param(k, v.as_str())).collect();
    app.api.db().execute(&sql, params).await.unwrap();
    id
}

fn ids(body: &Value) -> Vec<String> {
    body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Follows `next_cursor` to the end; `between` runs after each page.
async fn all_pages(
    app: &TestApp,
    session: &Value,
    limit: &str,
    mut between: impl AsyncFnMut(usize),
) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", limit)];
        if let Some(c) = cursor.as_deref() {
            query.push(("cursor", c));
        }
        app.reset_calls();
        let answer = page(app, session, &query).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(app.calls(), 1);
        pages.push(answer.body["transactions"].as_array().unwrap().clone());
        between(pages.len()).await;
        match answer.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return pages,
        }
    }
}

#[tokio::test]
async fn pages_return_every_transaction_once_newest_first_even_while_rows_are_added() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let account = account(&app, &ada, "Checking", "checking").await;
    insert_many(&app, &ada, &account, 1_200, None).await;
    let stored: BTreeSet<String> = {
        let rows = app
            .api
            .db()
            .execute("SELECT id::text FROM transactions", vec![])
            .await
            .unwrap();
        rows.iter().map(|r| r.get::<String>(0).unwrap()).collect()
    };
    assert_eq!(stored.len(), 1_200);

    // Rows added between pages, newer and older than the pages read so far.
    let pages = all_pages(&app, &ada, "500", async |n| {
        insert_one(
            &app,
            &ada,
            &account,
            &[
                ("date", json!("2026-12-01")),
                ("memo", json!(format!("newer {n}"))),
            ],
        )
        .await;
        insert_one(
            &app,
            &ada,
            &account,
            &[
                ("date", json!("2020-01-01")),
                ("memo", json!(format!("older {n}"))),
            ],
        )
        .await;
    })
    .await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    // The last page also has the two older rows added after pages 1 and 2; the newer ones sort
    // before the cursor and are for the next sync from the top.
    assert_eq!(sizes, [500, 500, 200 + 2]);
    let seen: Vec<String> = pages
        .iter()
        .flatten()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a transaction came twice");
    assert!(stored.is_subset(&unique), "a transaction was skipped");
    // Newest first: by date, then id, descending.
    let keys: Vec<(String, String)> = pages
        .iter()
        .flatten()
        .map(|t| {
            (
                t["date"].as_str().unwrap().to_owned(),
                t["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] > w[1]));

    // The default page is 100.
    let first = page(&app, &ada, &[]).await;
    assert_eq!(ids(&first.body).len(), 100);
    assert!(first.body["next_cursor"].is_string());
}

#[tokio::test]
async fn the_largest_page_with_the_longest_memos_stays_within_the_response_limit() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let account = account(&app, &ada, "Checking", "checking").await;
    // 500 characters of four bytes each: 2,000 bytes a memo, a megabyte in 500 memos.
    let memo = "𝄞".repeat(500);
    insert_many(&app, &ada, &account, 600, Some(&memo)).await;
    let pages = all_pages(&app, &ada, "500", async |_| {}).await;
    let seen: BTreeSet<String> = pages
        .iter()
        .flatten()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen.len(), 600);
    assert!(
        pages[0].len() < 500,
        "the first page stopped early, before the limit"
    );
    assert!(pages.iter().flatten().all(|t| t["memo"] == memo));
}

#[tokio::test]
async fn filters_select_by_account_category_payee_dates_and_cleared_and_tombstones_on_request() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let checking = account(&app, &ada, "Checking", "checking").await;
    let cash = account(&app, &ada, "Cash", "cash").await;
    let category = app.first_category(&ada).await;
    let payee = app
        .send_json(
            &functions::registry::PAYEES_CREATE,
            "POST",
            "/payees",
            &ada,
            &json!({"name": "Grocer"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let plain = insert_one(
        &app,
        &ada,
        &checking,
        &[("date", json!("2026-03-01")), ("cleared", json!("cleared"))],
    )
    .await;
    let categorised = insert_one(
        &app,
        &ada,
        &cash,
        &[("date", json!("2026-04-01")), ("category_id", json!(category))],
    )
    .await;
    let paid = insert_one(
        &app,
        &ada,
        &cash,
        &[("date", json!("2026-05-01")), ("payee_id", json!(payee))],
    )
    .await;
    let split = insert_one(
        &app,
        &ada,
        &checking,
        &[("date", json!("2026-06-01")), ("amount", json!(-3000))],
    )
    .await;
    let line = insert_one(
        &app,
        &ada,
        &checking,
        &[
            ("date", json!("2026-06-01")),
            ("amount", json!(-2000)),
            ("parent_id", json!(split)),
            ("category_id", json!(category)),
            ("memo", json!("part")),
        ],
    )
    .await;
    insert_one(
        &app,
        &ada,
        &checking,
        &[
            ("date", json!("2026-06-01")),
            ("amount", json!(-1000)),
            ("parent_id", json!(split)),
        ],
    )
    .await;
    let deleted = insert_one(
        &app,
        &ada,
        &checking,
        &[
            ("date", json!("2026-07-01")),
            ("deleted_at", json!("2026-07-02 00:00:00+00")),
        ],
    )
    .await;

    type Query<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Query, Vec<&str>)> = vec![
        (vec![], vec![&split, &paid, &categorised, &plain]),
        (vec![("account_id", &checking)], vec![&split, &plain]),
        (vec![("category_id", &category)], vec![&split, &categorised]),
        (vec![("payee_id", &payee)], vec![&paid]),
        (
            vec![("since", "2026-04-01"), ("until", "2026-05-31")],
            vec![&paid, &categorised],
        ),
        (vec![("cleared", "cleared")], vec![&plain]),
        (
            vec![("include_deleted", "true")],
            vec![&deleted, &split, &paid, &categorised, &plain],
        ),
    ];
    for (query, want) in cases {
        let answer = page(&app, &ada, &query).await;
        assert_eq!(answer.status, 200, "{query:?}: {:?}", answer.body);
        assert_eq!(ids(&answer.body), want, "{query:?}");
    }

    // A split answers with its lines; a line is not a transaction of its own.
    let whole = get(&app, &ada, &split).await;
    assert_eq!(whole.status, 200);
    assert!(whole.headers.contains_key("etag"));
    let lines = whole.body["subtransactions"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines.iter().map(|l| l["amount"].as_i64().unwrap()).sum::<i64>(),
        -3000
    );
    assert_eq!(get(&app, &ada, &line).await.status, 404);
    let tombstone = get(&app, &ada, &deleted).await;
    assert_eq!(tombstone.status, 200);
    assert_eq!(tombstone.body["deleted"], true);

    let wrong = page(
        &app,
        &ada,
        &[
            ("account_id", "x"),
            ("since", "2026-13-01"),
            ("cleared", "maybe"),
            ("limit", "501"),
            ("cursor", "%%%"),
        ],
    )
    .await;
    assert_eq!(wrong.status, 422);
    let named: BTreeSet<&str> = wrong.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        named,
        BTreeSet::from(["account_id", "since", "cleared", "limit", "cursor"])
    );
}

#[tokio::test]
async fn other_households_transactions_and_cursors_reach_nothing_of_theirs() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let adas = account(&app, &ada, "Checking", "checking").await;
    let bobs = account(&app, &bob, "Checking", "checking").await;
    insert_many(&app, &ada, &adas, 30, Some("ada's")).await;
    insert_many(&app, &bob, &bobs, 30, Some("bob's")).await;

    let adas_page = page(&app, &ada, &[("limit", "10")]).await;
    let adas_cursor = adas_page.body["next_cursor"].as_str().unwrap().to_owned();
    let adas_first = ids(&adas_page.body)[0].clone();

    // Bob with Ada's cursor, account filter and transaction: only Bob's rows, or nothing.
    let with_cursor = page(&app, &bob, &[("cursor", &adas_cursor)]).await;
    assert_eq!(with_cursor.status, 200);
    assert!(
        with_cursor.body["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["memo"] == "bob's")
    );
    let filtered = page(&app, &bob, &[("account_id", &adas)]).await;
    assert_eq!(ids(&filtered.body), Vec::<String>::new());
    for id in [
        adas_first.as_str(),
        "not-a-uuid",
        &TransactionId::new().to_string(),
    ] {
        assert_eq!(get(&app, &bob, id).await.status, 404, "{id}");
    }
    let everything = page(&app, &bob, &[("limit", "500")]).await;
    assert!(
        everything.body["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["memo"] == "bob's")
    );
    assert_eq!(ids(&everything.body).len(), 30);
}

async fn delete(app: &TestApp, session: &Value, id: &str, if_match: Option<&str>) -> harness::TestResponse {
    let request = with_if_match(
        bearer_request("DELETE", &format!("/transactions/{id}"), session),
        if_match,
    );
    app.send(&functions::registry::TRANSACTIONS_DELETE, request).await
}

/// Which of `ids` are deleted, straight from the database.
async fn deleted(app: &TestApp, ids: &[&str]) -> Vec<bool> {
    let mut answer = Vec::new();
    for id in ids {
        let rows = app
            .api
            .db()
            .execute(
                "SELECT deleted_at IS NOT NULL FROM transactions WHERE id = :id::uuid",
                vec![param("id", *id)],
            )
            .await
            .unwrap();
        answer.push(rows.first().unwrap().get::<bool>(0).unwrap());
    }
    answer
}

#[tokio::test]
async fn deleting_leaves_tombstones_and_takes_split_lines_and_the_other_transfer_leg_along() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let checking = account(&app, &ada, "Checking", "checking").await;
    let savings = account(&app, &ada, "Savings", "savings").await;
    let split = insert_one(&app, &ada, &checking, &[("amount", json!(-3000))]).await;
    let first_line = insert_one(
        &app,
        &ada,
        &checking,
        &[("amount", json!(-2000)), ("parent_id", json!(split))],
    )
    .await;
    let second_line = insert_one(
        &app,
        &ada,
        &checking,
        &[("amount", json!(-1000)), ("parent_id", json!(split))],
    )
    .await;
    let out = insert_one(&app, &ada, &checking, &[("amount", json!(-500))]).await;
    let back = insert_one(
        &app,
        &ada,
        &savings,
        &[("amount", json!(500)), ("transfer_transaction_id", json!(out))],
    )
    .await;
    app.api
        .db()
        .execute(
            "UPDATE transactions SET transfer_transaction_id = :back::uuid WHERE id = :out::uuid",
            vec![param("back", back.as_str()), param("out", out.as_str())],
        )
        .await
        .unwrap();
    let everything = [split.as_str(), &first_line, &second_line, &out, &back];

    // Another household, a line, a stale If-Match: refused, nothing changes.
    assert_eq!(delete(&app, &bob, &split, None).await.status, 404);
    assert_eq!(delete(&app, &ada, &first_line, None).await.status, 404);
    assert_eq!(delete(&app, &ada, "not-a-uuid", None).await.status, 404);
    let etag = get(&app, &ada, &split).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(delete(&app, &ada, &split, Some("\"1\"")).await.status, 412);
    assert_eq!(deleted(&app, &everything).await, [false; 5]);

    app.reset_calls();
    assert_eq!(delete(&app, &ada, &split, Some(&etag)).await.status, 204);
    assert_eq!(app.calls(), 1);
    assert_eq!(deleted(&app, &everything).await, [true, true, true, false, false]);
    assert_eq!(
        delete(&app, &ada, &split, None).await.status,
        404,
        "already deleted"
    );
    let tombstone = get(&app, &ada, &split).await;
    assert_eq!(tombstone.body["deleted"], true);
    assert_eq!(tombstone.body["subtransactions"].as_array().unwrap().len(), 2);

    // Either leg of a transfer takes the other along.
    assert_eq!(delete(&app, &ada, &back, None).await.status, 204);
    assert_eq!(deleted(&app, &everything).await, [true; 5]);
    assert_eq!(ids(&page(&app, &ada, &[]).await.body), Vec::<String>::new());
    let tombstones = page(&app, &ada, &[("include_deleted", "true")]).await;
    assert_eq!(ids(&tombstones.body).len(), 3);
    // Balances no longer count them.
    let accounts = app
        .send(
            &functions::registry::ACCOUNTS_LIST,
            bearer_request("GET", "/accounts", &ada),
        )
        .await;
    assert!(
        accounts.body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["balance"] == 0)
    );
}
