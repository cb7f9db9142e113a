//! Delta sync, played by a client: a full read of every list, a series of writes by other members
//! (creates, edits, deletes, a transfer, a split, a member leaving), a delta read of every list
//! applied to the client's copy, and the copy equals a fresh full read. Each read is one call.

use std::collections::BTreeMap;

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request, with_query};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

/// A list a client keeps: its name, path, query for a full read, and the answer's list field.
type List = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

const LISTS: &[List] = &[
    ("accounts", "/accounts", &[("include_closed", "true")], "accounts"),
    ("payees", "/payees", &[], "payees"),
    (
        "category_groups",
        "/category-groups",
        &[("include_hidden", "true")],
        "category_groups",
    ),
    (
        "transactions",
        "/transactions",
        &[("limit", "500")],
        "transactions",
    ),
    ("months", "/months", &[], "months"),
    ("invitations", "/household/invitations", &[], "invitations"),
    ("members", "/household", &[], "members"),
];

/// `GET path?query` to the list's endpoint.
async fn list(app: &TestApp, session: &Value, path: &str, query: &[(&str, &str)]) -> harness::TestResponse {
    let request = with_query(bearer_request("GET", path, session), query);
    match path {
        "/accounts" => app.send(functions::accounts::list::respond, request).await,
        "/payees" => app.send(functions::payees::list::respond, request).await,
        "/category-groups" => app.send(functions::categories::groups::respond, request).await,
        "/transactions" => app.send(functions::transactions::list::respond, request).await,
        "/months" => app.send(functions::months::list::respond, request).await,
        "/household/invitations" => app.send(functions::invitations::list::respond, request).await,
        _ => app.send(functions::household::get::respond, request).await,
    }
}

/// As [`list`], asserting 200 in one call.
async fn get(app: &TestApp, session: &Value, path: &str, query: &[(&str, &str)]) -> harness::TestResponse {
    app.reset_calls();
    let response = list(app, session, path, query).await;
    assert_eq!(response.status, 200, "{path} {query:?}: {:?}", response.body);
    assert_eq!(app.calls(), 1, "{path}: one call");
    response
}

/// What a sync client holds: each list's items by key, and the knowledge to send next.
#[derive(Debug, Default, PartialEq)]
struct Copy {
    lists: BTreeMap<&'static str, BTreeMap<String, Value>>,
    knowledge: BTreeMap<&'static str, i64>,
}

fn key(list: &str, item: &Value) -> String {
    let field = match list {
        "members" => "user_id",
        "months" => "month",
        _ => "id",
    };
    item[field].as_str().expect("an item key").to_owned()
}

fn is_tombstone(list: &str, item: &Value) -> bool {
    // A transaction tombstone is the whole transaction with deleted: true; the client drops it.
    item["deleted"] == json!(true)
        && (list == "transactions" || item.as_object().is_some_and(|o| o.len() == 2))
}

impl Copy {
    async fn full_read(app: &TestApp, session: &Value) -> Self {
        let mut copy = Self::default();
        for (list, path, query, field) in LISTS {
            let answer = get(app, session, path, query).await;
            let items = answer.body[*field].as_array().unwrap();
            assert!(
                !items.iter().any(|item| item["deleted"] == json!(true)),
                "{list}: a full read has no tombstones"
            );
            copy.lists.insert(
                list,
                items.iter().map(|item| (key(list, item), item.clone())).collect(),
            );
            copy.knowledge
                .insert(list, answer.body["server_knowledge"].as_i64().unwrap());
            assert!(answer.body.get("next_cursor").is_none_or(Value::is_null));
        }
        copy
    }

    /// Applies a delta read of every list; answers how many items (and tombstones) came.
    async fn delta_read(&mut self, app: &TestApp, session: &Value) -> usize {
        let mut received = 0;
        for (list, path, query, field) in LISTS {
            let known = self.knowledge[list].to_string();
            let mut query = query.to_vec();
            query.push(("last_knowledge_of_server", &known));
            let answer = get(app, session, path, &query).await;
            let items = answer.body[*field].as_array().unwrap();
            received += items.len();
            let copy = self.lists.get_mut(list).unwrap();
            if *list == "months" && !items.is_empty() {
                copy.clear(); // months come all or none
            }
            for item in items {
                if is_tombstone(list, item) {
                    copy.remove(&key(list, item));
                } else {
                    copy.insert(key(list, item), item.clone());
                }
            }
            self.knowledge
                .insert(list, answer.body["server_knowledge"].as_i64().unwrap());
        }
        received
    }
}

/// A member writing from another device.
struct Writer<'a> {
    app: &'a TestApp,
    session: &'a Value,
}

impl Writer<'_> {
    async fn send(
        &self,
        respond: impl AsyncFnOnce(&functions::App, Request) -> Result<Response<Body>, lambda_http::Error>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let request = match body {
            Some(body) => json_request(method, path, &body, Some(access_token(self.session))),
            None => bearer_request(method, path, self.session),
        };
        let answer = self.app.send(respond, request).await;
        assert!(
            answer.status < 300,
            "{method} {path}: {} {:?}",
            answer.status,
            answer.body
        );
        answer.body
    }

    /// POSTs and answers the new id.
    async fn create(
        &self,
        respond: impl AsyncFnOnce(&functions::App, Request) -> Result<Response<Body>, lambda_http::Error>,
        path: &str,
        body: Value,
    ) -> String {
        let answer = self.send(respond, "POST", path, Some(body)).await;
        answer["id"].as_str().expect("a new id").to_owned()
    }
}

#[tokio::test]
async fn a_client_copy_after_a_delta_read_equals_a_fresh_full_read() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.join(&ada, "bob@example.com", "member").await;
    let carol = app.join(&ada, "carol@example.com", "member").await;
    let (ada_device, bob_device) = (
        Writer {
            app: &app,
            session: &ada,
        },
        Writer {
            app: &app,
            session: &bob,
        },
    );
    use functions::{accounts, categories, household, invitations, months, payees, transactions};

    // What the household holds before the client's full read.
    let checking = ada_device
        .create(
            accounts::create::respond,
            "/accounts",
            json!({"name": "Checking", "kind": "checking", "opening_balance": 500_000}),
        )
        .await;
    let savings = ada_device
        .create(
            accounts::create::respond,
            "/accounts",
            json!({"name": "Savings", "kind": "savings"}),
        )
        .await;
    let unused = ada_device
        .create(
            accounts::create::respond,
            "/accounts",
            json!({"name": "Unused", "kind": "cash"}),
        )
        .await;
    let shop = ada_device
        .create(payees::create::respond, "/payees", json!({"name": "Shop"}))
        .await;
    let gym = ada_device
        .create(payees::create::respond, "/payees", json!({"name": "Gym"}))
        .await;
    let fun = ada_device
        .create(
            categories::group_create::respond,
            "/category-groups",
            json!({"name": "Fun"}),
        )
        .await;
    let other_group = ada_device
        .create(
            categories::group_create::respond,
            "/category-groups",
            json!({"name": "Other"}),
        )
        .await;
    let games = ada_device
        .create(
            categories::create::respond,
            "/categories",
            json!({"category_group_id": fun, "name": "Games"}),
        )
        .await;
    let books = ada_device
        .create(
            categories::create::respond,
            "/categories",
            json!({"category_group_id": fun, "name": "Books"}),
        )
        .await;
    let spent = ada_device
        .create(transactions::create::respond, "/transactions",
                json!({"account_id": checking, "date": "2026-11-02", "amount": -1_000, "payee_id": shop, "category_id": games}))
        .await;
    ada_device
        .create(
            transactions::create::respond,
            "/transactions",
            json!({"account_id": checking, "date": "2026-11-03", "amount": -2_000, "payee_id": gym}),
        )
        .await;
    let split = ada_device
        .create(
            transactions::create::respond,
            "/transactions",
            json!({"account_id": checking, "date": "2026-11-04", "amount": -3_000, "subtransactions": [
                    {"amount": -1_000, "category_id": games}, {"amount": -2_000, "category_id": books}]}),
        )
        .await;
    let invitation = ada_device
        .create(
            invitations::create::respond,
            "/household/invitations",
            json!({"email": "dan@example.com", "role": "member"}),
        )
        .await;

    let mut copy = Copy::full_read(&app, &ada).await;

    // Other members write: creates, edits, deletes, a transfer, a split, a member leaving.
    bob_device
        .create(
            accounts::create::respond,
            "/accounts",
            json!({"name": "Wallet", "kind": "cash"}),
        )
        .await;
    bob_device
        .send(
            payees::update::respond,
            "PATCH",
            &format!("/payees/{shop}"),
            Some(json!({"name": "Corner Shop"})),
        )
        .await;
    bob_device
        .send(payees::delete::respond, "DELETE", &format!("/payees/{gym}"), None)
        .await;
    bob_device
        .create(
            transactions::create::respond,
            "/transactions",
            json!({"account_id": checking, "date": "2026-11-05", "amount": -700, "payee_name": "Bakery"}),
        )
        .await;
    bob_device
        .create(transactions::create::respond, "/transactions",
                json!({"account_id": checking, "date": "2026-11-06", "amount": -50_000, "transfer_account_id": savings}))
        .await;
    bob_device
        .send(
            transactions::update::respond,
            "PATCH",
            &format!("/transactions/{spent}"),
            Some(json!({"account_id": savings, "amount": -1_500})),
        )
        .await;
    bob_device
        .send(
            transactions::delete::respond,
            "DELETE",
            &format!("/transactions/{split}"),
            None,
        )
        .await;
    bob_device
        .create(
            transactions::create::respond,
            "/transactions",
            json!({"account_id": savings, "date": "2026-12-01", "amount": -900, "subtransactions": [
                    {"amount": -400, "category_id": games}, {"amount": -500, "category_id": books}]}),
        )
        .await;
    bob_device
        .send(
            categories::update::respond,
            "PATCH",
            &format!("/categories/{books}"),
            Some(json!({"name": "Novels"})),
        )
        .await;
    bob_device
        .send(
            categories::update::respond,
            "PATCH",
            &format!("/categories/{games}"),
            Some(json!({"category_group_id": other_group})),
        )
        .await;
    let cinema = bob_device
        .create(
            categories::create::respond,
            "/categories",
            json!({"category_group_id": fun, "name": "Cinema"}),
        )
        .await;
    bob_device
        .send(
            months::assign::respond,
            "PUT",
            &format!("/months/2026-11/categories/{cinema}"),
            Some(json!({"assigned": 4_000})),
        )
        .await;
    bob_device
        .send(
            months::assign::respond,
            "PUT",
            &format!("/months/2026-11/categories/{books}"),
            Some(json!({"assigned": 2_500})),
        )
        .await;
    bob_device
        .send(
            categories::delete::respond,
            "DELETE",
            &format!("/categories/{cinema}"),
            None,
        )
        .await;
    let temporary = bob_device
        .create(
            categories::group_create::respond,
            "/category-groups",
            json!({"name": "Temporary"}),
        )
        .await;
    bob_device
        .send(
            categories::group_delete::respond,
            "DELETE",
            &format!("/category-groups/{temporary}"),
            None,
        )
        .await;
    bob_device
        .send(
            accounts::delete::respond,
            "DELETE",
            &format!("/accounts/{unused}"),
            None,
        )
        .await;
    ada_device
        .send(
            invitations::revoke::respond,
            "DELETE",
            &format!("/household/invitations/{invitation}"),
            None,
        )
        .await;
    ada_device
        .create(
            invitations::create::respond,
            "/household/invitations",
            json!({"email": "erin@example.com", "role": "owner"}),
        )
        .await;
    let carol_id = carol["user_id"].as_str().unwrap();
    ada_device
        .send(
            household::member_remove::respond,
            "DELETE",
            &format!("/household/members/{carol_id}"),
            None,
        )
        .await;
    ada_device
        .send(
            household::member_role::respond,
            "PATCH",
            &format!("/household/members/{}", bob["user_id"].as_str().unwrap()),
            Some(json!({"role": "owner"})),
        )
        .await;

    let received = copy.delta_read(&app, &ada).await;
    assert!(received > 0);
    assert_eq!(
        copy,
        Copy::full_read(&app, &ada).await,
        "the copy after a delta read is a full read"
    );
    assert_eq!(copy.delta_read(&app, &ada).await, 0, "nothing changed since");
}

#[tokio::test]
async fn knowledge_from_the_future_or_malformed_is_422_on_every_list() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let household = get(&app, &ada, "/household", &[]).await;
    let ahead = (household.body["server_knowledge"].as_i64().unwrap() + 1).to_string();
    for (name, path, _, _) in LISTS {
        for value in [ahead.as_str(), "-1", "abc", "1.5"] {
            let request = with_query(
                bearer_request("GET", path, &ada),
                &[("last_knowledge_of_server", value)],
            );
            let answer = match *path {
                "/accounts" => app.send(functions::accounts::list::respond, request).await,
                "/payees" => app.send(functions::payees::list::respond, request).await,
                "/category-groups" => app.send(functions::categories::groups::respond, request).await,
                "/transactions" => app.send(functions::transactions::list::respond, request).await,
                "/months" => app.send(functions::months::list::respond, request).await,
                "/household/invitations" => app.send(functions::invitations::list::respond, request).await,
                _ => app.send(functions::household::get::respond, request).await,
            };
            assert_eq!(answer.status, 422, "{name} with {value}: {:?}", answer.body);
            assert_eq!(answer.body["errors"][0]["field"], "last_knowledge_of_server");
        }
    }
}

#[tokio::test]
async fn every_page_of_one_walk_answers_the_knowledge_of_its_first_page() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let writer = Writer {
        app: &app,
        session: &ada,
    };
    let checking = writer
        .create(
            functions::accounts::create::respond,
            "/accounts",
            json!({"name": "Checking", "kind": "checking"}),
        )
        .await;
    for day in 1..=4 {
        writer
            .create(
                functions::transactions::create::respond,
                "/transactions",
                json!({"account_id": checking, "date": format!("2026-11-0{day}"), "amount": -day}),
            )
            .await;
    }
    let first = get(&app, &ada, "/transactions", &[("limit", "2")]).await;
    let knowledge = first.body["server_knowledge"].as_i64().unwrap();
    let late = writer
        .create(
            functions::transactions::create::respond,
            "/transactions",
            json!({"account_id": checking, "date": "2026-10-01", "amount": -99}),
        )
        .await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = get(
        &app,
        &ada,
        "/transactions",
        &[("limit", "2"), ("cursor", &cursor)],
    )
    .await;
    assert_eq!(
        second.body["server_knowledge"], knowledge,
        "the walk's knowledge, not the newest"
    );
    let delta = get(
        &app,
        &ada,
        "/transactions",
        &[("last_knowledge_of_server", &knowledge.to_string())],
    )
    .await;
    let ids: Vec<&str> = delta.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [late.as_str()],
        "the next delta brings what was written during the walk"
    );
}

#[tokio::test]
async fn concurrent_writes_in_one_household_all_succeed_and_are_all_stamped() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let writer = Writer {
        app: &app,
        session: &ada,
    };
    let checking = writer
        .create(
            functions::accounts::create::respond,
            "/accounts",
            json!({"name": "Checking", "kind": "checking"}),
        )
        .await;
    let savings = writer
        .create(
            functions::accounts::create::respond,
            "/accounts",
            json!({"name": "Savings", "kind": "savings"}),
        )
        .await;
    let leg = writer
        .create(functions::transactions::create::respond, "/transactions",
                json!({"account_id": checking, "date": "2026-11-01", "amount": -10_000, "transfer_account_id": savings}))
        .await;
    let before = get(&app, &ada, "/household", &[]).await.body["server_knowledge"]
        .as_i64()
        .unwrap();
    let other = get(&app, &ada, "/transactions", &[]).await.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] != json!(leg))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = |id: &str, body: Value| {
        let request = json_request(
            "PATCH",
            &format!("/transactions/{id}"),
            &body,
            Some(access_token(&ada)),
        );
        app.send(functions::transactions::update::respond, request)
    };
    let create = |amount: i64| {
        let body = json!({"account_id": savings, "date": "2026-11-02", "amount": amount});
        app.send(
            functions::transactions::create::respond,
            json_request("POST", "/transactions", &body, Some(access_token(&ada))),
        )
    };
    // Both legs of one transfer edited at once (each edit writes both), beside other writes.
    let answers = tokio::join!(
        patch(&leg, json!({"amount": -20_000})),
        patch(&other, json!({"amount": 30_000})),
        patch(&leg, json!({"memo": "rent"})),
        create(-1),
        create(-2),
        patch(&other, json!({"date": "2026-11-03"})),
    );
    let statuses = [
        answers.0.status,
        answers.1.status,
        answers.2.status,
        answers.3.status,
        answers.4.status,
        answers.5.status,
    ];
    assert!(statuses.iter().all(|s| *s < 300), "{statuses:?}");
    let delta = get(
        &app,
        &ada,
        "/transactions",
        &[("last_knowledge_of_server", &before.to_string())],
    )
    .await;
    assert_eq!(
        delta.body["transactions"].as_array().unwrap().len(),
        4,
        "both legs and the two new ones"
    );
    let legs: i64 = delta.body["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["transfer_transaction_id"].is_null())
        .map(|t| t["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(legs, 0, "the legs still cancel out");
}
