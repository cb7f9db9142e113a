//! Delta sync, played by a client: a full read of every list, a series of writes by other members
//! (creates, edits, deletes, a transfer, a split, a member leaving), a delta read of every list
//! applied to the client's copy, and the copy equals a fresh full read. Each read is one call.

use std::collections::BTreeMap;

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request, with_query};
use serde_json::{Value, json};

/// A list a client keeps: its name, path, query for a full read, and the answer's list field.
type List = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

pub(crate) const LISTS: &[List] = &[
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
pub(crate) async fn list(
    app: &TestApp,
    session: &Value,
    path: &str,
    query: &[(&str, &str)],
) -> harness::TestResponse {
    let request = with_query(bearer_request("GET", path, session), query);
    match path {
        "/accounts" => app.send(&functions::registry::ACCOUNTS_LIST, request).await,
        "/payees" => app.send(&functions::registry::PAYEES_LIST, request).await,
        "/category-groups" => {
            app.send(&functions::registry::CATEGORY_GROUPS_LIST, request)
                .await
        }
        "/transactions" => app.send(&functions::registry::TRANSACTIONS_LIST, request).await,
        "/months" => app.send(&functions::registry::MONTHS_LIST, request).await,
        "/household/invitations" => app.send(&functions::registry::INVITATIONS_LIST, request).await,
        _ => app.send(&functions::registry::HOUSEHOLD_GET, request).await,
    }
}

/// As [`list`], asserting 200 in one call.
pub(crate) async fn get(
    app: &TestApp,
    session: &Value,
    path: &str,
    query: &[(&str, &str)],
) -> harness::TestResponse {
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
pub(crate) struct Writer<'a> {
    pub app: &'a TestApp,
    pub session: &'a Value,
}

impl Writer<'_> {
    async fn send(
        &self,
        endpoint: &functions::endpoint::Endpoint,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let request = match body {
            Some(body) => json_request(method, path, &body, Some(access_token(self.session))),
            None => bearer_request(method, path, self.session),
        };
        let answer = self.app.send(endpoint, request).await;
        assert!(
            answer.status < 300,
            "{method} {path}: {} {:?}",
            answer.status,
            answer.body
        );
        answer.body
    }

    async fn patch(&self, endpoint: &functions::endpoint::Endpoint, path: &str, body: Value) -> Value {
        self.send(endpoint, "PATCH", path, Some(body)).await
    }

    async fn delete(&self, endpoint: &functions::endpoint::Endpoint, path: &str) {
        self.send(endpoint, "DELETE", path, None).await;
    }

    /// A new account's id.
    pub async fn account(&self, name: &str, kind: &str) -> String {
        let body = json!({"name": name, "kind": kind});
        self.create(&functions::registry::ACCOUNTS_CREATE, "/accounts", body)
            .await
    }

    /// POSTs and answers the new id.
    pub async fn create(&self, endpoint: &functions::endpoint::Endpoint, path: &str, body: Value) -> String {
        let answer = self.send(endpoint, "POST", path, Some(body)).await;
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

    // What the household holds before the client's full read.
    let checking = ada_device
        .create(
            &functions::registry::ACCOUNTS_CREATE,
            "/accounts",
            json!({"name": "Checking", "kind": "checking", "opening_balance": 500_000}),
        )
        .await;
    let savings = ada_device
        .create(
            &functions::registry::ACCOUNTS_CREATE,
            "/accounts",
            json!({"name": "Savings", "kind": "savings"}),
        )
        .await;
    let unused = ada_device
        .create(
            &functions::registry::ACCOUNTS_CREATE,
            "/accounts",
            json!({"name": "Unused", "kind": "cash"}),
        )
        .await;
    let shop = ada_device
        .create(
            &functions::registry::PAYEES_CREATE,
            "/payees",
            json!({"name": "Shop"}),
        )
        .await;
    let gym = ada_device
        .create(
            &functions::registry::PAYEES_CREATE,
            "/payees",
            json!({"name": "Gym"}),
        )
        .await;
    let fun = ada_device
        .create(
            &functions::registry::CATEGORY_GROUPS_CREATE,
            "/category-groups",
            json!({"name": "Fun"}),
        )
        .await;
    let other_group = ada_device
        .create(
            &functions::registry::CATEGORY_GROUPS_CREATE,
            "/category-groups",
            json!({"name": "Other"}),
        )
        .await;
    let games = ada_device
        .create(
            &functions::registry::CATEGORIES_CREATE,
            "/categories",
            json!({"category_group_id": fun, "name": "Games"}),
        )
        .await;
    let books = ada_device
        .create(
            &functions::registry::CATEGORIES_CREATE,
            "/categories",
            json!({"category_group_id": fun, "name": "Books"}),
        )
        .await;
    let spent = ada_device
        .create(&functions::registry::TRANSACTIONS_CREATE, "/transactions",
                json!({"account_id": checking, "date": "2026-11-02", "amount": -1_000, "payee_id": shop, "category_id": games}))
        .await;
    ada_device
        .create(
            &functions::registry::TRANSACTIONS_CREATE,
            "/transactions",
            json!({"account_id": checking, "date": "2026-11-03", "amount": -2_000, "payee_id": gym}),
        )
        .await;
    let split = ada_device
        .create(
            &functions::registry::TRANSACTIONS_CREATE,
            "/transactions",
            json!({"account_id": checking, "date": "2026-11-04", "amount": -3_000, "subtransactions": [
                    {"amount": -1_000, "category_id": games}, {"amount": -2_000, "category_id": books}]}),
        )
        .await;
    let invitation = ada_device
        .create(
            &functions::registry::INVITATIONS_CREATE,
            "/household/invitations",
            json!({"email": "dan@example.com", "role": "member"}),
        )
        .await;

    let mut copy = Copy::full_read(&app, &ada).await;

    // Other members write: creates, edits, deletes, a transfer, a split, a member leaving.
    bob_device
        .create(
            &functions::registry::ACCOUNTS_CREATE,
            "/accounts",
            json!({"name": "Wallet", "kind": "cash"}),
        )
        .await;
    bob_device
        .patch(
            &functions::registry::PAYEES_UPDATE,
            &format!("/payees/{shop}"),
            json!({"name": "Corner Shop"}),
        )
        .await;
    bob_device
        .delete(&functions::registry::PAYEES_DELETE, &format!("/payees/{gym}"))
        .await;
    bob_device
        .create(
            &functions::registry::TRANSACTIONS_CREATE,
            "/transactions",
            json!({"account_id": checking, "date": "2026-11-05", "amount": -700, "payee_name": "Bakery"}),
        )
        .await;
    bob_device
        .create(&functions::registry::TRANSACTIONS_CREATE, "/transactions",
                json!({"account_id": checking, "date": "2026-11-06", "amount": -50_000, "transfer_account_id": savings}))
        .await;
    bob_device
        .patch(
            &functions::registry::TRANSACTIONS_UPDATE,
            &format!("/transactions/{spent}"),
            json!({"account_id": savings, "amount": -1_500}),
        )
        .await;
    bob_device
        .delete(
            &functions::registry::TRANSACTIONS_DELETE,
            &format!("/transactions/{split}"),
        )
        .await;
    bob_device
        .create(
            &functions::registry::TRANSACTIONS_CREATE,
            "/transactions",
            json!({"account_id": savings, "date": "2026-12-01", "amount": -900, "subtransactions": [
                    {"amount": -400, "category_id": games}, {"amount": -500, "category_id": books}]}),
        )
        .await;
    bob_device
        .patch(
            &functions::registry::CATEGORIES_UPDATE,
            &format!("/categories/{books}"),
            json!({"name": "Novels"}),
        )
        .await;
    bob_device
        .patch(
            &functions::registry::CATEGORIES_UPDATE,
            &format!("/categories/{games}"),
            json!({"category_group_id": other_group}),
        )
        .await;
    let cinema = bob_device
        .create(
            &functions::registry::CATEGORIES_CREATE,
            "/categories",
            json!({"category_group_id": fun, "name": "Cinema"}),
        )
        .await;
    bob_device
        .send(
            &functions::registry::MONTHS_ASSIGN,
            "PUT",
            &format!("/months/2026-11/categories/{cinema}"),
            Some(json!({"assigned": 4_000})),
        )
        .await;
    bob_device
        .send(
            &functions::registry::MONTHS_ASSIGN,
            "PUT",
            &format!("/months/2026-11/categories/{books}"),
            Some(json!({"assigned": 2_500})),
        )
        .await;
    bob_device
        .delete(
            &functions::registry::CATEGORIES_DELETE,
            &format!("/categories/{cinema}"),
        )
        .await;
    let temporary = bob_device
        .create(
            &functions::registry::CATEGORY_GROUPS_CREATE,
            "/category-groups",
            json!({"name": "Temporary"}),
        )
        .await;
    bob_device
        .delete(
            &functions::registry::CATEGORY_GROUPS_DELETE,
            &format!("/category-groups/{temporary}"),
        )
        .await;
    bob_device
        .delete(
            &functions::registry::ACCOUNTS_DELETE,
            &format!("/accounts/{unused}"),
        )
        .await;
    ada_device
        .delete(
            &functions::registry::INVITATIONS_REVOKE,
            &format!("/household/invitations/{invitation}"),
        )
        .await;
    ada_device
        .create(
            &functions::registry::INVITATIONS_CREATE,
            "/household/invitations",
            json!({"email": "erin@example.com", "role": "owner"}),
        )
        .await;
    let carol_id = carol["user_id"].as_str().unwrap();
    ada_device
        .delete(
            &functions::registry::HOUSEHOLD_MEMBER_REMOVE,
            &format!("/household/members/{carol_id}"),
        )
        .await;
    ada_device
        .send(
            &functions::registry::HOUSEHOLD_MEMBER_ROLE,
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
