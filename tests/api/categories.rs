//! Category groups and categories: the nested list in order, hidden ones only when asked, names
//! unique per group, moves between groups, deletes that uncategorise transactions and remove
//! allocations in the same call, `If-Match`, and tenant isolation in paths and bodies.

use harness::TestApp;
use harness::app::{access_token, bearer_request, json_request, with_if_match, with_query};
use serde_json::{Value, json};
use shared::db::param;

async fn new_group(app: &TestApp, caller: &Value, name: &str, sort_order: i32) -> harness::TestResponse {
    let body = json!({ "name": name, "sort_order": sort_order });
    app.send_json(
        &functions::registry::CATEGORY_GROUPS_CREATE,
        "POST",
        "/category-groups",
        caller,
        &body,
    )
    .await
}

async fn new_category(
    app: &TestApp,
    caller: &Value,
    group: &str,
    name: &str,
    sort_order: i32,
) -> harness::TestResponse {
    let body = json!({ "category_group_id": group, "name": name, "sort_order": sort_order });
    app.send_json(
        &functions::registry::CATEGORIES_CREATE,
        "POST",
        "/categories",
        caller,
        &body,
    )
    .await
}

async fn groups(app: &TestApp, caller: &Value, include_hidden: bool) -> harness::TestResponse {
    let query: &[(&str, &str)] = if include_hidden {
        &[("include_hidden", "true")]
    } else {
        &[]
    };
    let request = with_query(bearer_request("GET", "/category-groups", caller), query);
    app.send(&functions::registry::CATEGORY_GROUPS_LIST, request)
        .await
}

/// Group name → its category names, as listed.
fn outline(response: &harness::TestResponse) -> Vec<(String, Vec<String>)> {
    response.body["category_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let categories = g["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect();
            (g["name"].as_str().unwrap().to_owned(), categories)
        })
        .collect()
}

fn id(response: &harness::TestResponse) -> String {
    response.body["id"].as_str().unwrap().to_owned()
}

/// Groups and categories only the test created: the new household's defaults are cleared first.
async fn empty_household(app: &TestApp, email: &str) -> Value {
    let session = app.register(email).await;
    for table in ["categories", "category_groups"] {
        app.api
            .db()
            .execute(
                &format!("DELETE FROM {table} WHERE household_id = :id::uuid"),
                vec![param("id", session["household_id"].as_str().unwrap())],
            )
            .await
            .unwrap();
    }
    session
}

#[tokio::test]
async fn the_list_nests_categories_in_order_and_hides_what_is_hidden() {
    let app = TestApp::spawn().await.unwrap();
    let ada = empty_household(&app, "ada@example.com").await;
    let bills = new_group(&app, &ada, "Bills", 2).await;
    let everyday = new_group(&app, &ada, "Everyday", 1).await;
    assert_eq!(everyday.status, 201, "{:?}", everyday.body);
    for (group, name, order) in [
        (&bills, "Rent", 1),
        (&bills, "Phone", 2),
        (&everyday, "Transport", 1),
        (&everyday, "Groceries", 1),
    ] {
        assert_eq!(
            new_category(&app, &ada, &id(group), name, order).await.status,
            201
        );
    }
    let hidden = new_category(&app, &ada, &id(&bills), "Old gym", 3).await;
    let path = format!("/categories/{}", id(&hidden));
    app.send_json(
        &functions::registry::CATEGORIES_UPDATE,
        "PATCH",
        &path,
        &ada,
        &json!({"hidden": true}),
    )
    .await;

    app.reset_calls();
    let listed = groups(&app, &ada, false).await;
    assert_eq!(listed.status, 200);
    assert_eq!(app.calls(), 1);
    let expected = [
        ("Everyday", vec!["Groceries", "Transport"]),
        ("Bills", vec!["Rent", "Phone"]),
    ];
    let expected: Vec<(String, Vec<String>)> = expected
        .iter()
        .map(|(g, cs)| ((*g).to_owned(), cs.iter().map(|c| (*c).to_owned()).collect()))
        .collect();
    assert_eq!(outline(&listed), expected);
    let all = outline(&groups(&app, &ada, true).await);
    assert_eq!(all[1].1, ["Rent", "Phone", "Old gym"]);
}

#[tokio::test]
async fn names_are_unique_per_group_and_categories_move_between_groups() {
    let app = TestApp::spawn().await.unwrap();
    let ada = empty_household(&app, "ada@example.com").await;
    let bills = new_group(&app, &ada, "Bills", 0).await;
    let goals = new_group(&app, &ada, "Goals", 0).await;
    assert_eq!(new_group(&app, &ada, "Bills", 0).await.status, 409);
    let rent = new_category(&app, &ada, &id(&bills), "Rent", 0).await;
    assert_eq!(new_category(&app, &ada, &id(&bills), "Rent", 0).await.status, 409);
    assert_eq!(
        new_category(&app, &ada, &id(&goals), "Rent", 0).await.status,
        201,
        "another group may"
    );
    let path = format!("/categories/{}", id(&rent));
    let clash = app
        .send_json(
            &functions::registry::CATEGORIES_UPDATE,
            "PATCH",
            &path,
            &ada,
            &json!({"category_group_id": id(&goals)}),
        )
        .await;
    assert_eq!(clash.status, 409);
    app.reset_calls();
    let moved = app
        .send_json(
            &functions::registry::CATEGORIES_UPDATE,
            "PATCH",
            &path,
            &ada,
            &json!({"category_group_id": id(&goals), "name": "Housing"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(moved.body["category_group_id"], goals.body["id"]);
    assert_eq!(moved.body["name"], "Housing");
}

#[tokio::test]
async fn a_group_in_the_body_must_be_the_households() {
    let app = TestApp::spawn().await.unwrap();
    let ada = empty_household(&app, "ada@example.com").await;
    let eve = empty_household(&app, "eve@example.com").await;
    let adas = new_group(&app, &ada, "Bills", 0).await;
    let eves = new_group(&app, &eve, "Bills", 0).await;
    let rent = new_category(&app, &ada, &id(&adas), "Rent", 0).await;
    for foreign in [
        id(&eves),
        shared::domain::CategoryGroupId::new().to_string(),
        "nope".to_owned(),
    ] {
        let created = new_category(&app, &ada, &foreign, "Sneaky", 0).await;
        assert_eq!(created.status, 422, "{foreign}");
        assert_eq!(created.invalid_fields(), ["category_group_id"]);
        let path = format!("/categories/{}", id(&rent));
        let moved = app
            .send_json(
                &functions::registry::CATEGORIES_UPDATE,
                "PATCH",
                &path,
                &ada,
                &json!({"category_group_id": foreign}),
            )
            .await;
        assert_eq!(moved.status, 422, "{foreign}");
    }
    let outline_eve = outline(&groups(&app, &eve, true).await);
    assert_eq!(outline_eve, [("Bills".to_owned(), Vec::<String>::new())]);
}

#[tokio::test]
async fn deleting_a_category_uncategorises_its_transactions_and_removes_its_allocations() {
    let app = TestApp::spawn().await.unwrap();
    let ada = empty_household(&app, "ada@example.com").await;
    let group = new_group(&app, &ada, "Everyday", 0).await;
    let groceries = new_category(&app, &ada, &id(&group), "Groceries", 0).await;
    let account = app
        .create_account(&ada, &json!({"name": "Checking", "kind": "checking"}))
        .await;
    let amounts = [-4_500_i64, -12_000, -800];
    let db = app.api.db();
    for amount in amounts {
        db.execute(
            "INSERT INTO transactions (id, household_id, account_id, date, amount, category_id, created_by) \
             VALUES (:id, :household::uuid, :account::uuid, current_date, :amount, :category::uuid, :user::uuid)",
            vec![
                param("id", &shared::domain::TransactionId::new()),
                param("household", ada["household_id"].as_str().unwrap()),
                param("account", account.body["id"].as_str().unwrap()),
                param("amount", &amount),
                param("category", id(&groceries).as_str()),
                param("user", ada["user_id"].as_str().unwrap()),
            ],
        )
        .await
        .unwrap();
    }
    let months = ["2026-10-01", "2026-11-01"];
    for month in months {
        db.execute(
            "INSERT INTO budget_allocations (id, household_id, category_id, month, assigned) \
             VALUES (:id, :household::uuid, :category::uuid, :month::date, 100000)",
            vec![
                param("id", &shared::domain::BudgetAllocationId::new()),
                param("household", ada["household_id"].as_str().unwrap()),
                param("category", id(&groceries).as_str()),
                param("month", month),
            ],
        )
        .await
        .unwrap();
    }
    app.reset_calls();
    let request = bearer_request("DELETE", &format!("/categories/{}", id(&groceries)), &ada);
    let deleted = app.send(&functions::registry::CATEGORIES_DELETE, request).await;
    assert_eq!(deleted.status, 200, "{:?}", deleted.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(deleted.body["transactions_uncategorised"], amounts.len());
    assert_eq!(deleted.body["budget_allocations_removed"], months.len());
    let rows = db
        .execute(
            "SELECT sum(amount)::bigint, count(category_id), (SELECT count(*) FROM budget_allocations) FROM transactions",
            vec![],
        )
        .await
        .unwrap();
    let row = rows.first().unwrap();
    assert_eq!(
        row.get::<i64>(0).unwrap(),
        amounts.iter().sum::<i64>(),
        "amounts kept"
    );
    assert_eq!(row.get::<i64>(1).unwrap(), 0);
    assert_eq!(row.get::<i64>(2).unwrap(), 0);
}

#[tokio::test]
async fn a_group_with_categories_cannot_be_deleted_and_if_match_guards_changes() {
    let app = TestApp::spawn().await.unwrap();
    let ada = empty_household(&app, "ada@example.com").await;
    let group = new_group(&app, &ada, "Bills", 0).await;
    let rent = new_category(&app, &ada, &id(&group), "Rent", 0).await;
    let group_path = format!("/category-groups/{}", id(&group));
    let refused = app
        .send(
            &functions::registry::CATEGORY_GROUPS_DELETE,
            bearer_request("DELETE", &group_path, &ada),
        )
        .await;
    assert_eq!(refused.status, 409);
    let version = group.header("etag").unwrap().to_owned();
    let rename = json_request(
        "PATCH",
        &group_path,
        &json!({"name": "Fixed costs"}),
        Some(access_token(&ada)),
    );
    let rename = with_if_match(rename, Some(&version));
    assert_eq!(
        app.send(&functions::registry::CATEGORY_GROUPS_UPDATE, rename)
            .await
            .status,
        200
    );
    let stale = json_request(
        "PATCH",
        &group_path,
        &json!({"hidden": true}),
        Some(access_token(&ada)),
    );
    let stale = with_if_match(stale, Some(&version));
    assert_eq!(
        app.send(&functions::registry::CATEGORY_GROUPS_UPDATE, stale)
            .await
            .status,
        412
    );
    let category_path = format!("/categories/{}", id(&rent));
    app.send(
        &functions::registry::CATEGORIES_DELETE,
        bearer_request("DELETE", &category_path, &ada),
    )
    .await;
    app.reset_calls();
    let emptied = app
        .send(
            &functions::registry::CATEGORY_GROUPS_DELETE,
            bearer_request("DELETE", &group_path, &ada),
        )
        .await;
    assert_eq!(emptied.status, 204, "{:?}", emptied.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(
        outline(&groups(&app, &ada, true).await),
        Vec::<(String, Vec<String>)>::new()
    );
}

#[tokio::test]
async fn another_households_groups_and_categories_are_not_found_and_untouched() {
    let app = TestApp::spawn().await.unwrap();
    let ada = empty_household(&app, "ada@example.com").await;
    let eve = empty_household(&app, "eve@example.com").await;
    let group = new_group(&app, &ada, "Bills", 0).await;
    let rent = new_category(&app, &ada, &id(&group), "Rent", 0).await;
    let group_path = format!("/category-groups/{}", id(&group));
    let category_path = format!("/categories/{}", id(&rent));
    let patch = json!({"name": "Eve's", "hidden": true});
    for (method, path, status) in [
        ("GET", category_path.as_str(), 404),
        ("DELETE", category_path.as_str(), 404),
        ("DELETE", group_path.as_str(), 404),
    ] {
        let request = bearer_request(method, path, &eve);
        let response = match (method, path.starts_with("/categories")) {
            ("GET", _) => app.send(&functions::registry::CATEGORIES_GET, request).await,
            (_, true) => app.send(&functions::registry::CATEGORIES_DELETE, request).await,
            _ => {
                app.send(&functions::registry::CATEGORY_GROUPS_DELETE, request)
                    .await
            }
        };
        assert_eq!(response.status, status, "{method} {path}");
    }
    assert_eq!(
        app.send_json(
            &functions::registry::CATEGORIES_UPDATE,
            "PATCH",
            &category_path,
            &eve,
            &patch
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.send_json(
            &functions::registry::CATEGORY_GROUPS_UPDATE,
            "PATCH",
            &group_path,
            &eve,
            &patch
        )
        .await
        .status,
        404
    );
    for malformed in ["/categories/nope", "/category-groups/1"] {
        let request = bearer_request("DELETE", malformed, &ada);
        let response = if malformed.starts_with("/categories") {
            app.send(&functions::registry::CATEGORIES_DELETE, request).await
        } else {
            app.send(&functions::registry::CATEGORY_GROUPS_DELETE, request)
                .await
        };
        assert_eq!(response.status, 404, "{malformed}");
    }
    let after = app
        .send(
            &functions::registry::CATEGORIES_GET,
            bearer_request("GET", &category_path, &ada),
        )
        .await;
    assert_eq!(after.body["name"], "Rent");
    assert_eq!(after.header("etag"), rent.header("etag"));
}

#[tokio::test]
async fn a_new_household_starts_with_the_default_categories_in_its_single_call() {
    let app = TestApp::spawn().await.unwrap();
    app.reset_calls();
    let ada = app.register("ada@example.com").await;
    assert_eq!(app.calls(), 1, "registering is still one call");
    let expected: Vec<(String, Vec<String>)> = functions::auth::register::DEFAULT_CATEGORIES
        .iter()
        .map(|(group, names)| {
            (
                (*group).to_owned(),
                names.iter().map(|n| (*n).to_owned()).collect(),
            )
        })
        .collect();
    assert_eq!(outline(&groups(&app, &ada, false).await), expected);
    let joined = app.join(&ada, "bob@example.com", "member").await;
    assert_eq!(
        outline(&groups(&app, &joined, false).await),
        expected,
        "joining adds none"
    );
}

#[tokio::test]
async fn a_category_carries_a_note_that_null_clears() {
    let app = TestApp::spawn().await.unwrap();
    let ada = empty_household(&app, "ada@example.com").await;
    let group = new_group(&app, &ada, "Bills", 0).await;
    let body = json!({"category_group_id": id(&group), "name": "Rent", "note": "due on the 1st"});
    let rent = app
        .send_json(
            &functions::registry::CATEGORIES_CREATE,
            "POST",
            "/categories",
            &ada,
            &body,
        )
        .await;
    assert_eq!(rent.status, 201, "{:?}", rent.body);
    assert_eq!(rent.body["note"], "due on the 1st");
    let path = format!("/categories/{}", id(&rent));
    let renamed = app
        .send_json(
            &functions::registry::CATEGORIES_UPDATE,
            "PATCH",
            &path,
            &ada,
            &json!({"name": "Housing"}),
        )
        .await;
    assert_eq!(renamed.body["note"], "due on the 1st", "not sent, kept");
    let cleared = app
        .send_json(
            &functions::registry::CATEGORIES_UPDATE,
            "PATCH",
            &path,
            &ada,
            &json!({"note": null}),
        )
        .await;
    assert_eq!(cleared.body["note"], Value::Null);
    let long = json!({"note": "n".repeat(1001)});
    let refused = app
        .send_json(
            &functions::registry::CATEGORIES_UPDATE,
            "PATCH",
            &path,
            &ada,
            &long,
        )
        .await;
    assert_eq!(refused.invalid_fields(), ["note"]);
}

#[tokio::test]
async fn groups_and_categories_are_capped_so_the_nested_list_fits_the_response_limit() {
    let app = TestApp::spawn().await.unwrap();
    let ada = empty_household(&app, "ada@example.com").await;
    let (group_cap, category_cap) = (
        functions::categories::MAX_GROUPS,
        functions::categories::MAX_CATEGORIES,
    );
    let groups_ids: Vec<String> = (0..group_cap)
        .map(|_| shared::domain::CategoryGroupId::new().to_string())
        .collect();
    let category_ids: Vec<String> = (0..category_cap)
        .map(|_| shared::domain::CategoryId::new().to_string())
        .collect();
    let db = app.api.db();
    // Every name at its longest and every note at its longest.
    db.execute(
        "INSERT INTO category_groups (id, household_id, name, sort_order) \
         SELECT id::uuid, :household::uuid, left(n || ' ' || repeat('g', 100), 100), n \
         FROM unnest(string_to_array(:ids, ',')) WITH ORDINALITY AS t (id, n)",
        vec![
            param("household", ada["household_id"].as_str().unwrap()),
            param("ids", groups_ids.join(",").as_str()),
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO categories (id, household_id, category_group_id, name, sort_order, note) \
         SELECT t.id::uuid, :household::uuid, \
                (string_to_array(:groups, ','))[1 + (t.n - 1) % :group_count]::uuid, \
                left(t.n || ' ' || repeat('c', 100), 100), t.n, repeat('n', 1000) \
         FROM unnest(string_to_array(:ids, ',')) WITH ORDINALITY AS t (id, n)",
        vec![
            param("household", ada["household_id"].as_str().unwrap()),
            param("groups", groups_ids.join(",").as_str()),
            param("group_count", &group_cap),
            param("ids", category_ids.join(",").as_str()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(new_group(&app, &ada, "One more", 0).await.status, 409);
    assert_eq!(
        new_category(&app, &ada, &groups_ids[0], "One more", 0)
            .await
            .status,
        409
    );
    let all = groups(&app, &ada, true).await;
    assert_eq!(
        all.status,
        200,
        "the largest list still fits: {:?}",
        all.body.get("detail")
    );
    let listed: usize = all.body["category_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["categories"].as_array().unwrap().len())
        .sum();
    assert_eq!(listed as i64, category_cap);
}

#[tokio::test]
async fn a_group_is_read_by_id_with_all_its_categories_in_one_call_and_only_by_its_household() {
    let app = TestApp::spawn().await.unwrap();
    let ada = empty_household(&app, "ada@example.com").await;
    let eve = empty_household(&app, "eve@example.com").await;
    let bills = new_group(&app, &ada, "Bills", 1).await;
    let empty = new_group(&app, &ada, "Empty", 2).await;
    for (name, order) in [("Rent", 2), ("Phone", 1), ("Old gym", 3)] {
        assert_eq!(
            new_category(&app, &ada, &id(&bills), name, order).await.status,
            201
        );
    }
    let gym = groups(&app, &ada, true).await.body["category_groups"][0]["categories"][2]["id"].clone();
    let hide = app
        .send_json(
            &functions::registry::CATEGORIES_UPDATE,
            "PATCH",
            &format!("/categories/{}", gym.as_str().unwrap()),
            &ada,
            &json!({"hidden": true}),
        )
        .await;
    assert_eq!(hide.status, 200, "{:?}", hide.body);
    let renamed = app
        .send_json(
            &functions::registry::CATEGORY_GROUPS_UPDATE,
            "PATCH",
            &format!("/category-groups/{}", id(&bills)),
            &ada,
            &json!({"name": "Home", "hidden": true}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    let get = |caller: &Value, path: String| {
        let request = bearer_request("GET", &path, caller);
        app.send(&functions::registry::CATEGORY_GROUPS_GET, request)
    };

    app.reset_calls();
    let read = get(&ada, format!("/category-groups/{}", id(&bills))).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(
        (read.body["name"].clone(), read.body["hidden"].clone()),
        (json!("Home"), json!(true)),
        "hidden, and still read by id"
    );
    let names: Vec<&str> = read.body["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Phone", "Rent", "Old gym"],
        "in sort order, the hidden one too"
    );
    assert_eq!(
        read.header("etag"),
        renamed.header("etag"),
        "the group's own version"
    );
    let listed = groups(&app, &ada, true).await;
    assert_eq!(
        read.body, listed.body["category_groups"][0],
        "as the list shows it"
    );

    let none = get(&ada, format!("/category-groups/{}", id(&empty))).await;
    assert_eq!((none.status, none.body["categories"].clone()), (200, json!([])));

    let unknown = shared::domain::CategoryGroupId::new();
    for (caller, path) in [
        (&eve, format!("/category-groups/{}", id(&bills))),
        (&ada, format!("/category-groups/{unknown}")),
        (&ada, "/category-groups/1".to_owned()),
    ] {
        let response = get(caller, path.clone()).await;
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(response.header("etag"), None, "{path}");
        assert_eq!(
            response.body,
            get(&ada, format!("/category-groups/{unknown}")).await.body,
            "{path} answers alike"
        );
    }
}
