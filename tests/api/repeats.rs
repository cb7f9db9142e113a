//! Every household write, sent again with the same `Idempotency-Key`, answers exactly what it
//! answered the first time (status, body, `ETag`), marked `Idempotent-Replayed`, in one Data API
//! call each, and does not write again (the household's server knowledge, which every write
//! raises, stays where the first request left it).

use std::collections::BTreeSet;

use functions::endpoint::Endpoint;
use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request};
use lambda_http::http::HeaderValue;
use serde_json::{Value, json};

/// A write: its endpoint, path and body (`None` for a request without one).
struct Write {
    endpoint: &'static Endpoint,
    path: String,
    body: Option<Value>,
}

impl Write {
    fn new(endpoint: &'static Endpoint, path: impl Into<String>, body: Option<Value>) -> Self {
        let path = path.into();
        Self { endpoint, path, body }
    }

    fn what(&self) -> String {
        format!("{} {}", self.endpoint.route.method, self.path)
    }

    async fn send(&self, app: &'static TestApp, session: &Value, key: &str) -> harness::TestResponse {
        let method = self.endpoint.route.method;
        let mut request = match &self.body {
            Some(body) => json_request(method, &self.path, body, Some(access_token(session))),
            None => bearer_request(method, &self.path, session),
        };
        request
            .headers_mut()
            .insert("idempotency-key", HeaderValue::from_str(key).unwrap());
        let response = self.endpoint.call(&app.app, request).await.expect("respond");
        harness::app::read(response).await
    }
}

/// The writes sent so far, each with its own key, as the owner `session`.
struct Walk {
    app: &'static TestApp,
    session: Value,
    sent: BTreeSet<&'static str>,
    keys: usize,
}

impl Walk {
    /// Sends `write` twice with one key; answers the first answer's body.
    async fn twice(&mut self, write: Write) -> Value {
        let (app, what) = (self.app, write.what());
        self.keys += 1;
        let key = format!("key-{}", self.keys);
        self.sent.insert(write.endpoint.name);
        app.reset_calls();
        let first = write.send(app, &self.session, &key).await;
        assert!((200..300).contains(&first.status), "{what}: {:?}", first.body);
        assert_eq!(app.calls(), 1, "{what}: the write");
        let written = knowledge(app).await;

        app.reset_calls();
        let repeat = write.send(app, &self.session, &key).await;
        assert_eq!(app.calls(), 1, "{what}: the repeat");
        assert_eq!(repeat.header("idempotent-replayed"), Some("true"), "{what}");
        assert_eq!(repeat.status, first.status, "{what}");
        assert_eq!(repeat.body, first.body, "{what}");
        assert_eq!(repeat.header("etag"), first.header("etag"), "{what}");
        assert_eq!(knowledge(app).await, written, "{what}: wrote again");
        first.body
    }
}

async fn knowledge(app: &TestApp) -> i64 {
    let rows = app
        .api
        .db()
        .execute("SELECT max(server_knowledge) FROM households", vec![])
        .await
        .unwrap();
    rows.first().unwrap().get(0).unwrap()
}

fn id(body: &Value) -> &str {
    body["id"].as_str().expect("an id")
}

#[tokio::test]
async fn every_household_write_repeats_its_first_answer_in_one_call_and_writes_once() {
    use functions::registry as r;
    let app: &'static TestApp = Box::leak(Box::new(TestApp::spawn().await.unwrap()));
    let ada = app.register("ada@example.com").await;
    let bob = app.join(&ada, "bob@example.com", "member").await;
    let bob = format!("/household/members/{}", bob["user_id"].as_str().unwrap());
    let mut walk = Walk {
        app,
        session: ada.clone(),
        sent: BTreeSet::new(),
        keys: 0,
    };

    walk.twice(Write::new(
        &r::HOUSEHOLD_UPDATE,
        "/household",
        Some(json!({"name": "Lovelaces"})),
    ))
    .await;
    let account = |name: &str| json!({"name": name, "kind": "checking", "opening_balance": 100_000});
    let checking = walk
        .twice(Write::new(
            &r::ACCOUNTS_CREATE,
            "/accounts",
            Some(account("Checking")),
        ))
        .await;
    let savings = walk
        .twice(Write::new(
            &r::ACCOUNTS_CREATE,
            "/accounts",
            Some(account("Savings")),
        ))
        .await;
    let (checking, savings) = (id(&checking).to_owned(), id(&savings).to_owned());
    let spare = json!({"name": "Spare", "kind": "cash"});
    let spare = walk
        .twice(Write::new(&r::ACCOUNTS_CREATE, "/accounts", Some(spare)))
        .await;
    let spare = format!("/accounts/{}", id(&spare));
    walk.twice(Write::new(
        &r::ACCOUNTS_UPDATE,
        spare.clone(),
        Some(json!({"name": "Jar"})),
    ))
    .await;
    walk.twice(Write::new(&r::ACCOUNTS_DELETE, spare, None)).await;

    let payee = walk
        .twice(Write::new(
            &r::PAYEES_CREATE,
            "/payees",
            Some(json!({"name": "Bakery"})),
        ))
        .await;
    let payee = format!("/payees/{}", id(&payee));
    walk.twice(Write::new(
        &r::PAYEES_UPDATE,
        payee.clone(),
        Some(json!({"name": "Baker"})),
    ))
    .await;

    let group = json!({"name": "Utilities"});
    let group = walk
        .twice(Write::new(
            &r::CATEGORY_GROUPS_CREATE,
            "/category-groups",
            Some(group),
        ))
        .await;
    let group_id = id(&group).to_owned();
    let group = format!("/category-groups/{group_id}");
    let rename = json!({"name": "Monthly"});
    walk.twice(Write::new(
        &r::CATEGORY_GROUPS_UPDATE,
        group.clone(),
        Some(rename),
    ))
    .await;
    let category = json!({"category_group_id": group_id, "name": "Internet"});
    let category = walk
        .twice(Write::new(&r::CATEGORIES_CREATE, "/categories", Some(category)))
        .await;
    let category_id = id(&category).to_owned();
    let category = format!("/categories/{category_id}");
    let rename = json!({"name": "Broadband"});
    walk.twice(Write::new(&r::CATEGORIES_UPDATE, category.clone(), Some(rename)))
        .await;
    let month = format!("/months/2026-12/categories/{category_id}");
    walk.twice(Write::new(
        &r::MONTHS_ASSIGN,
        month,
        Some(json!({"assigned": 60_000})),
    ))
    .await;

    let split = json!({"account_id": checking, "date": "2026-12-01", "amount": -3_000, "payee_name": "Corner Shop",
        "subtransactions": [{"amount": -1_000, "category_id": category_id}, {"amount": -2_000, "memo": "rest"}]});
    let transfer = json!({"account_id": checking, "date": "2026-12-02", "amount": -5_000, "transfer_account_id": savings});
    let bulk = json!({"transactions": [split, transfer]});
    let created = walk
        .twice(Write::new(&r::TRANSACTIONS_CREATE, "/transactions", Some(bulk)))
        .await;
    let split = format!("/transactions/{}", id(&created["transactions"][0]));
    let patch = json!({"memo": "weekly", "subtransactions": [{"amount": -1_500, "category_id": category_id}, {"amount": -1_500}]});
    walk.twice(Write::new(&r::TRANSACTIONS_UPDATE, split.clone(), Some(patch)))
        .await;
    walk.twice(Write::new(&r::TRANSACTIONS_DELETE, split, None)).await;
    let schedule = json!({"account_id": checking, "date_first": chrono::Utc::now().date_naive(),
        "frequency": "monthly", "amount": -3_000, "payee_name": "Corner Shop",
        "subtransactions": [{"amount": -1_000, "category_id": category_id}, {"amount": -2_000}]});
    let schedule = walk
        .twice(Write::new(
            &r::SCHEDULED_TRANSACTIONS_CREATE,
            "/scheduled-transactions",
            Some(schedule),
        ))
        .await;
    let schedule = format!("/scheduled-transactions/{}", id(&schedule));
    let change = json!({"amount": -4_000, "subtransactions": [], "category_id": category_id});
    walk.twice(Write::new(
        &r::SCHEDULED_TRANSACTIONS_UPDATE,
        schedule.clone(),
        Some(change),
    ))
    .await;
    walk.twice(Write::new(&r::SCHEDULED_TRANSACTIONS_DELETE, schedule, None))
        .await;
    walk.twice(Write::new(&r::PAYEES_DELETE, payee, None)).await;
    walk.twice(Write::new(&r::CATEGORIES_DELETE, category, None))
        .await;
    walk.twice(Write::new(&r::CATEGORY_GROUPS_DELETE, group, None))
        .await;

    // An invitation's token is shown once: its repeat is the same answer with the token null.
    let invite = json!({"email": "eve@example.com", "role": "member"});
    let invitation = Write::new(&r::INVITATIONS_CREATE, "/household/invitations", Some(invite));
    app.reset_calls();
    let first = invitation.send(app, &ada, "invite").await;
    let repeat = invitation.send(app, &ada, "invite").await;
    assert_eq!((first.status, repeat.status, app.calls()), (201, 201, 2));
    let mut shown = first.body.clone();
    shown["invitation_token"] = Value::Null;
    assert_eq!(repeat.body, shown);
    walk.sent.insert(r::INVITATIONS_CREATE.name);
    let revoke = format!("/household/invitations/{}", id(&first.body));
    walk.twice(Write::new(&r::INVITATIONS_REVOKE, revoke, None)).await;

    walk.twice(Write::new(
        &r::HOUSEHOLD_MEMBER_ROLE,
        bob.clone(),
        Some(json!({"role": "owner"})),
    ))
    .await;
    walk.twice(Write::new(&r::HOUSEHOLD_MEMBER_REMOVE, bob, None))
        .await;

    let keyed: BTreeSet<&str> = r::ENDPOINTS
        .iter()
        .filter(|e| (e.doc)().keyed())
        .map(|e| e.name)
        .collect();
    assert_eq!(walk.sent, keyed, "every keyed write was sent");
}
