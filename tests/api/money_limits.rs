//! Money that always adds up: every amount the API accepts is under 10^15 milliunits (422 naming
//! the field otherwise, for every way money comes in), and every total is an exact sum that cannot
//! overflow, so no read answers 500 for data the API accepted.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request};
use lambda_http::Body;
use serde_json::{Value, json};
use shared::domain::MAX_AMOUNT;

/// The largest amount accepted.
const LARGEST: i64 = 999_999_999_999_999;

/// An endpoint's answer as text: totals past 64 bits do not survive a JSON `Value`.
fn raw(response: Result<lambda_http::Response<Body>, lambda_http::Error>) -> (u16, String) {
    let response = response.expect("respond");
    let status = response.status().as_u16();
    match response.into_body() {
        Body::Text(text) => (status, text),
        other => (status, format!("{other:?}")),
    }
}

#[tokio::test]
async fn a_household_holding_the_largest_amounts_lists_its_accounts_and_months() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let mut accounts = Vec::new();
    for name in ["Checking", "Debts"] {
        let account = app
            .create_account(&ada, &json!({"name": name, "kind": "checking"}))
            .await;
        accounts.push(account.body["id"].as_str().unwrap().to_owned());
    }
    let (batches, per_batch) = (19, 500);
    // Inflows past i64::MAX in one account, outflows past i64::MIN in the other.
    for (account, amount) in [(&accounts[0], LARGEST), (&accounts[1], -LARGEST)] {
        for batch in 0..batches {
            let transactions: Vec<Value> = (0..per_batch)
                .map(|n| json!({"account_id": account, "date": "2026-11-20", "amount": amount, "memo": format!("{batch}-{n}")}))
                .collect();
            let body = json!({"transactions": transactions});
            let request = json_request("POST", "/transactions", &body, Some(access_token(&ada)));
            let created = app.send(&functions::registry::TRANSACTIONS_CREATE, request).await;
            assert_eq!(created.status, 201, "{:?}", created.body);
        }
    }
    // The test's own arithmetic: 9,500 × (10^15 − 1), past i64::MAX (about 9.22 × 10^18).
    let expected = i128::from(LARGEST) * i128::from(batches * per_batch);
    assert!(expected > i128::from(i64::MAX) && -expected < i128::from(i64::MIN));

    let get = |path: &str| bearer_request("GET", path, &ada);
    let list = raw(functions::registry::ACCOUNTS_LIST
        .call(&app.app, get("/accounts"))
        .await);
    let debts = raw(functions::registry::ACCOUNTS_GET
        .call(&app.app, get(&format!("/accounts/{}", accounts[1])))
        .await);
    let months = raw(functions::registry::MONTHS_LIST
        .call(&app.app, get("/months"))
        .await);
    let month = raw(functions::registry::MONTHS_GET
        .call(&app.app, get("/months/2026-11"))
        .await);
    let checks = [
        ("accounts", list.clone(), expected),
        ("accounts", list, -expected),
        ("the debts account", debts, -expected),
        ("months", months, expected),
        ("month", month, expected),
    ];
    for (what, (status, body), total) in checks {
        assert_eq!(status, 200, "{what}: {body}");
        assert!(
            body.contains(&format!(":{total}")),
            "{what} shows the exact total {total}: {body}"
        );
    }

    // Writes that answer those totals, and their repeats, read them as exactly.
    let keyed = |method: &str, path: &str, body: Value| {
        let mut request = json_request(method, path, &body, Some(access_token(&ada)));
        let key = lambda_http::http::HeaderValue::from_str(&format!("{method}{path}")).unwrap();
        request.headers_mut().insert("idempotency-key", key);
        request
    };
    let debts = format!("/accounts/{}", accounts[1]);
    let category = app.first_category(&ada).await;
    let assign = format!("/months/2026-11/categories/{category}");
    for repeat in [false, true] {
        let renamed = keyed("PATCH", &debts, json!({"name": "Owed"}));
        let renamed = raw(functions::registry::ACCOUNTS_UPDATE.call(&app.app, renamed).await);
        let assigned = keyed("PUT", &assign, json!({"assigned": 1_000}));
        let assigned = raw(functions::registry::MONTHS_ASSIGN.call(&app.app, assigned).await);
        let writes = [
            ("renaming the debts account", renamed, -expected),
            ("assigning", assigned, expected - 1_000),
        ];
        for (what, (status, body), total) in writes {
            assert_eq!(status, 200, "{what} (repeat: {repeat}): {body}");
            assert!(
                body.contains(&format!(":{total}")),
                "{what} shows the exact total {total}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn amounts_from_the_largest_on_are_refused_naming_the_field_wherever_money_comes_in() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let account = app
        .create_account(&ada, &json!({"name": "Checking", "kind": "checking"}))
        .await;
    let account = account.body["id"].as_str().unwrap().to_owned();
    let category = app.first_category(&ada).await;
    let existing = app
        .send(
            &functions::registry::TRANSACTIONS_CREATE,
            json_request(
                "POST",
                "/transactions",
                &json!({"account_id": account, "date": "2026-11-20", "amount": -1}),
                Some(access_token(&ada)),
            ),
        )
        .await;
    let transaction = format!("/transactions/{}", existing.body["id"].as_str().unwrap());
    let assign = format!("/months/2026-11/categories/{category}");

    for amount in [LARGEST + 1, -(LARGEST + 1), i64::MAX, i64::MIN] {
        let tries = [
            (
                "POST",
                "/accounts".to_owned(),
                json!({"name": format!("A{amount}"), "kind": "cash", "opening_balance": amount}),
                "opening_balance",
            ),
            (
                "POST",
                "/transactions".to_owned(),
                json!({"account_id": account, "date": "2026-11-20", "amount": amount}),
                "amount",
            ),
            (
                "POST",
                "/transactions".to_owned(),
                json!({"transactions": [{"account_id": account, "date": "2026-11-20", "amount": 1}, {"account_id": account, "date": "2026-11-20", "amount": amount}]}),
                "transactions[1].amount",
            ),
            (
                "POST",
                "/transactions".to_owned(),
                json!({"account_id": account, "date": "2026-11-20", "amount": 0, "subtransactions": [{"amount": amount}, {"amount": 1}]}),
                "subtransactions[0].amount",
            ),
            ("PATCH", transaction.clone(), json!({"amount": amount}), "amount"),
            ("PUT", assign.clone(), json!({"assigned": amount}), "assigned"),
        ];
        for (method, path, body, field) in tries {
            let request = json_request(method, &path, &body, Some(access_token(&ada)));
            let answer = match (method, path.as_str()) {
                ("POST", "/accounts") => app.send(&functions::registry::ACCOUNTS_CREATE, request).await,
                ("POST", _) => app.send(&functions::registry::TRANSACTIONS_CREATE, request).await,
                ("PATCH", _) => app.send(&functions::registry::TRANSACTIONS_UPDATE, request).await,
                _ => app.send(&functions::registry::MONTHS_ASSIGN, request).await,
            };
            assert_eq!(
                answer.status, 422,
                "{method} {path} with {amount}: {:?}",
                answer.body
            );
            assert!(
                answer.invalid_fields().contains(&field),
                "{method} {path}: {:?}",
                answer.body
            );
            let largest = (MAX_AMOUNT - 1).to_string();
            assert!(
                answer.body["errors"].to_string().contains(&largest),
                "the message names the range: {:?}",
                answer.body
            );
        }
    }
    // The largest is accepted everywhere.
    let largest = app
        .send(
            &functions::registry::MONTHS_ASSIGN,
            json_request(
                "PUT",
                &assign,
                &json!({"assigned": LARGEST}),
                Some(access_token(&ada)),
            ),
        )
        .await;
    assert_eq!(largest.status, 200, "{:?}", largest.body);
}
