//! The household's resources, warm: household and members, invitations, accounts, payees,
//! category groups and categories, each endpoint through its release binary.
//!
//! Every measured request must succeed, so what a request consumes is made first: a delete
//! removes what the matching create made (or what was prepared through the release binaries,
//! unmeasured), and creates stay under the household's caps (200 accounts, 100 category groups,
//! 100 pending invitations).

use std::cell::RefCell;

use serde_json::{Value, json};

use super::functions::{Endpoint, Setup, http, measure, text};
use super::runtime::RuntimeApi;

/// Requests on behalf of one signed-in household owner.
struct Owner {
    authorization: String,
}

impl Owner {
    fn event(&self, method: &str, path: &str, body: Option<&Value>) -> String {
        let mut headers = vec![("authorization", self.authorization.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let body = body.map(Value::to_string);
        harness::app::event(method, path, &headers, body.as_deref()).to_string()
    }
}

/// Sends `events` to `binary` without measuring (preparing what measured requests consume);
/// every answer must be a success.
async fn prepare(setup: &Setup<'_>, binary: &str, events: Vec<String>) -> anyhow::Result<Vec<Value>> {
    let runtime = RuntimeApi::start().await?;
    let _function = runtime.spawn(&setup.target.join(binary), setup.environment)?;
    let mut bodies = Vec::with_capacity(events.len());
    for event in events {
        let (status, body) = http(&runtime.invoke(&event).await?.body);
        anyhow::ensure!((200..300).contains(&status), "{binary} answered {status}: {body}");
        bodies.push(body);
    }
    Ok(bodies)
}

/// The `id` of every answer `carry` saw.
fn collect(ids: &RefCell<Vec<String>>) -> impl FnMut(&Value) + '_ {
    |body| {
        if let Some(id) = body["id"].as_str() {
            ids.borrow_mut().push(id.to_owned());
        }
    }
}

/// Measures the create endpoint at `path`, then the delete endpoint on what it created, in the
/// same order, so both make `samples` + warm-up requests.
#[allow(clippy::too_many_arguments)]
async fn create_then_delete(
    setup: &Setup<'_>,
    owner: &Owner,
    create: &'static str,
    delete: &'static str,
    path: &str,
    samples: usize,
    body: impl Fn(usize) -> Value,
    results: &mut Vec<Endpoint>,
) -> anyhow::Result<()> {
    let ids = RefCell::new(Vec::new());
    let made = |i: usize, _: &Value| owner.event("POST", path, Some(&body(i)));
    results.push(measure(setup, create, samples, made, collect(&ids)).await?);
    let ids = ids.into_inner();
    // measure() sends its warm-up requests first, numbered after the samples.
    let gone = |i: usize, _: &Value| {
        let index = (i + 3) % ids.len();
        owner.event("DELETE", &format!("{path}/{}", ids[index]), None)
    };
    results.push(measure(setup, delete, samples, gone, |_| {}).await?);
    Ok(())
}

/// Every resource endpoint for `session`'s household (its owner, freshly registered).
pub async fn endpoints(setup: &Setup<'_>, session: &Value) -> anyhow::Result<Vec<Endpoint>> {
    let access = text(&session["access_token"], "the session's access token")?;
    let owner = Owner {
        authorization: format!("Bearer {access}"),
    };
    let owner = &owner;
    let n = setup.samples;
    let mut results = Vec::new();

    // Household and invitations.
    let get = owner.event("GET", "/household", None);
    results.push(measure(setup, "household-get", n, |_, _| get.clone(), |_| {}).await?);
    let rename = |i: usize, _: &Value| {
        owner.event(
            "PATCH",
            "/household",
            Some(&json!({"name": format!("Bench household {i}")})),
        )
    };
    results.push(measure(setup, "household-update", n, rename, |_| {}).await?);

    let invited = n.min(90);
    let invite = |i: usize| json!({"email": format!("invitee-{i}@bench.example"), "role": "member"});
    let ids = RefCell::new(Vec::new());
    let made = |i: usize, _: &Value| owner.event("POST", "/household/invitations", Some(&invite(i)));
    results.push(measure(setup, "invitations-create", invited, made, collect(&ids)).await?);
    let list = owner.event("GET", "/household/invitations", None);
    results.push(measure(setup, "invitations-list", n, |_, _| list.clone(), |_| {}).await?);
    let ids = ids.into_inner();
    let revoke = |i: usize, _: &Value| {
        owner.event(
            "DELETE",
            &format!("/household/invitations/{}", ids[(i + 3) % ids.len()]),
            None,
        )
    };
    results.push(measure(setup, "invitations-revoke", invited, revoke, |_| {}).await?);

    // Members: each joins through an invitation (one at a time, so few are ever pending).
    let members = (n / 5).max(10) + 4;
    let mut member_ids = Vec::with_capacity(members);
    for i in 0..members {
        let email = format!("member-{i}@bench.example");
        let invitation = prepare(
            setup,
            "invitations-create",
            vec![owner.event(
                "POST",
                "/household/invitations",
                Some(&json!({"email": email, "role": "member"})),
            )],
        )
        .await?;
        let token = invitation[0]["invitation_token"].clone();
        let register = json!({"email": email, "password": "correct horse battery staple", "display_name": "Member", "invitation_token": token});
        let register = super::functions::post("/auth/register", &register);
        let joined = prepare(setup, "auth-register", vec![register]).await?;
        member_ids.push(text(&joined[0]["user_id"], "the joined member's id")?.to_owned());
    }
    let (promoted, removable) = member_ids.split_at(1);
    let role = |i: usize, _: &Value| {
        let role = if i.is_multiple_of(2) { "owner" } else { "member" };
        owner.event(
            "PATCH",
            &format!("/household/members/{}", promoted[0]),
            Some(&json!({"role": role})),
        )
    };
    results.push(measure(setup, "household-member-role", n, role, |_| {}).await?);
    let remove = |i: usize, _: &Value| {
        owner.event(
            "DELETE",
            &format!("/household/members/{}", removable[(i + 3) % removable.len()]),
            None,
        )
    };
    results.push(
        measure(
            setup,
            "household-member-remove",
            removable.len() - 3,
            remove,
            |_| {},
        )
        .await?,
    );

    // Joining: accounts alone in households of their own accept the owner's invitations, each
    // deleting its own household (the costlier way to join).
    let joining = (n / 5).max(10) + 3;
    let mut joiners = Vec::with_capacity(joining);
    for i in 0..joining {
        let email = format!("joiner-{i}@bench.example");
        let register =
            json!({"email": email, "password": "correct horse battery staple", "display_name": "Joiner"});
        let registered = prepare(
            setup,
            "auth-register",
            vec![super::functions::post("/auth/register", &register)],
        )
        .await?;
        let invitation = prepare(
            setup,
            "invitations-create",
            vec![owner.event(
                "POST",
                "/household/invitations",
                Some(&json!({"email": email, "role": "member"})),
            )],
        )
        .await?;
        let joiner = Owner {
            authorization: format!(
                "Bearer {}",
                text(&registered[0]["access_token"], "the joiner's access token")?
            ),
        };
        let body =
            json!({"invitation_token": invitation[0]["invitation_token"], "delete_current_household": true});
        joiners.push(joiner.event("POST", "/invitations/accept", Some(&body)));
    }
    let accept = |i: usize, _: &Value| joiners[(i + 3) % joiners.len()].clone();
    results.push(measure(setup, "invitations-accept", joining - 3, accept, |_| {}).await?);

    // Accounts: those created with an opening balance (a transaction) stay and give the list its
    // balances; delete takes accounts without transactions, prepared unmeasured.
    let accounts = n.min(90);
    let account = |i: usize| json!({"name": format!("Account {i}"), "kind": "checking", "opening_balance": 125_000, "opening_date": "2026-11-01"});
    let ids = RefCell::new(Vec::new());
    let made = |i: usize, _: &Value| owner.event("POST", "/accounts", Some(&account(i)));
    results.push(measure(setup, "accounts-create", accounts, made, collect(&ids)).await?);
    let first = ids.borrow()[0].clone();
    let list = owner.event("GET", "/accounts", None);
    results.push(measure(setup, "accounts-list", n, |_, _| list.clone(), |_| {}).await?);
    let get = owner.event("GET", &format!("/accounts/{first}"), None);
    results.push(measure(setup, "accounts-get", n, |_, _| get.clone(), |_| {}).await?);
    let rename = |i: usize, _: &Value| {
        owner.event(
            "PATCH",
            &format!("/accounts/{first}"),
            Some(&json!({"name": format!("Main account {i}")})),
        )
    };
    results.push(measure(setup, "accounts-update", n, rename, |_| {}).await?);
    let empty: Vec<String> = (0..accounts + 3)
        .map(|i| {
            owner.event(
                "POST",
                "/accounts",
                Some(&json!({"name": format!("Empty {i}"), "kind": "cash"})),
            )
        })
        .collect();
    let empty: Vec<String> = prepare(setup, "accounts-create", empty)
        .await?
        .iter()
        .map(|a| text(&a["id"], "a new account's id").map(str::to_owned))
        .collect::<anyhow::Result<_>>()?;
    let delete = |i: usize, _: &Value| {
        owner.event(
            "DELETE",
            &format!("/accounts/{}", empty[(i + 3) % empty.len()]),
            None,
        )
    };
    results.push(measure(setup, "accounts-delete", accounts, delete, |_| {}).await?);

    // Payees.
    let payee = |i: usize| json!({"name": format!("Payee {i}")});
    let kept = prepare(
        setup,
        "payees-create",
        vec![owner.event("POST", "/payees", Some(&payee(usize::MAX)))],
    )
    .await?;
    let kept = text(&kept[0]["id"], "the kept row's id")?.to_owned();
    let list = owner.event("GET", "/payees", None);
    let get = owner.event("GET", &format!("/payees/{kept}"), None);
    let rename = |i: usize, _: &Value| {
        owner.event(
            "PATCH",
            &format!("/payees/{kept}"),
            Some(&json!({"name": format!("Renamed payee {i}")})),
        )
    };
    create_then_delete(
        setup,
        owner,
        "payees-create",
        "payees-delete",
        "/payees",
        n,
        payee,
        &mut results,
    )
    .await?;
    results.push(measure(setup, "payees-list", n, |_, _| list.clone(), |_| {}).await?);
    results.push(measure(setup, "payees-get", n, |_, _| get.clone(), |_| {}).await?);
    results.push(measure(setup, "payees-update", n, rename, |_| {}).await?);

    // Category groups and categories (the household starts with the default set).
    let mut groups = Value::Null;
    let list = owner.event("GET", "/category-groups", None);
    results.push(
        measure(
            setup,
            "category-groups-list",
            n,
            |_, _| list.clone(),
            |b| groups = b.clone(),
        )
        .await?,
    );
    let group = text(
        &groups["category_groups"][0]["id"],
        "the first category group's id",
    )?
    .to_owned();
    let one_group = owner.event("GET", &format!("/category-groups/{group}"), None);
    results.push(measure(setup, "category-groups-get", n, |_, _| one_group.clone(), |_| {}).await?);
    let reorder = |i: usize, _: &Value| {
        owner.event(
            "PATCH",
            &format!("/category-groups/{group}"),
            Some(&json!({"sort_order": i})),
        )
    };
    results.push(measure(setup, "category-groups-update", n, reorder, |_| {}).await?);
    let new_group = |i: usize| json!({"name": format!("Group {i}")});
    create_then_delete(
        setup,
        owner,
        "category-groups-create",
        "category-groups-delete",
        "/category-groups",
        n.min(90),
        new_group,
        &mut results,
    )
    .await?;

    let category = |i: usize| json!({"category_group_id": group, "name": format!("Category {i}")});
    let kept = prepare(
        setup,
        "categories-create",
        vec![owner.event("POST", "/categories", Some(&category(usize::MAX)))],
    )
    .await?;
    let kept = text(&kept[0]["id"], "the kept row's id")?.to_owned();
    let get = owner.event("GET", &format!("/categories/{kept}"), None);
    results.push(measure(setup, "categories-get", n, |_, _| get.clone(), |_| {}).await?);
    let note = |i: usize, _: &Value| {
        owner.event(
            "PATCH",
            &format!("/categories/{kept}"),
            Some(&json!({"note": format!("Note {i}")})),
        )
    };
    results.push(measure(setup, "categories-update", n, note, |_| {}).await?);
    create_then_delete(
        setup,
        owner,
        "categories-create",
        "categories-delete",
        "/categories",
        n.min(200),
        category,
        &mut results,
    )
    .await?;

    // The month's budget over the accounts' opening balances (their transactions) and what is
    // assigned here; long histories are measured in `history`.
    let month = "2026-11";
    let assign = |i: usize, _: &Value| {
        let path = format!("/months/{month}/categories/{kept}");
        owner.event("PUT", &path, Some(&json!({"assigned": 1_000 * i as i64})))
    };
    results.push(measure(setup, "months-assign", n, assign, |_| {}).await?);
    let get = owner.event("GET", &format!("/months/{month}"), None);
    results.push(measure(setup, "months-get", n, |_, _| get.clone(), |_| {}).await?);
    let list = owner.event("GET", "/months", None);
    results.push(measure(setup, "months-list", n, |_, _| list.clone(), |_| {}).await?);

    // Transactions: one at a time (then read, edited and deleted), and 500 in one request.
    let spend = |i: usize| json!({"account_id": first, "date": "2026-11-20", "amount": -(i as i64) - 1, "payee_name": "Corner Shop", "category_id": kept});
    let ids = RefCell::new(Vec::new());
    let made = |i: usize, _: &Value| owner.event("POST", "/transactions", Some(&spend(i)));
    results.push(measure(setup, "transactions-create", n, made, collect(&ids)).await?);
    let ids = ids.into_inner();
    let get = owner.event("GET", &format!("/transactions/{}", ids[0]), None);
    results.push(measure(setup, "transactions-get", n, |_, _| get.clone(), |_| {}).await?);
    let list = owner.event("GET", "/transactions", None);
    results.push(measure(setup, "transactions-list", n, |_, _| list.clone(), |_| {}).await?);
    let edit = |i: usize, _: &Value| {
        let body = json!({"amount": -(i as i64) - 1, "memo": format!("edit {i}")});
        owner.event("PATCH", &format!("/transactions/{}", ids[1]), Some(&body))
    };
    results.push(measure(setup, "transactions-update", n, edit, |_| {}).await?);
    let gone = |i: usize, _: &Value| {
        owner.event(
            "DELETE",
            &format!("/transactions/{}", ids[(i + 3) % ids.len()]),
            None,
        )
    };
    results.push(measure(setup, "transactions-delete", n, gone, |_| {}).await?);
    let bulk = |i: usize, _: &Value| {
        let batch: Vec<Value> = (0..500)
            .map(|k| json!({"account_id": first, "date": "2026-11-21", "amount": -1000, "import_id": format!("bulk-{i}-{k}")}))
            .collect();
        owner.event("POST", "/transactions", Some(&json!({"transactions": batch})))
    };
    let mut bulk = measure(setup, "transactions-create", (n / 20).max(5), bulk, |_| {}).await?;
    bulk.route = "POST /transactions (500 in one request)".to_owned();
    results.push(bulk);

    // Scheduled transactions: monthly bills made (then read, listed, edited) and deleted.
    let today = chrono::Utc::now().date_naive();
    let bill = |i: usize| json!({"account_id": first, "date_first": today, "frequency": "monthly", "amount": -(i as i64) - 1, "payee_name": "Landlord", "category_id": kept});
    let ids = RefCell::new(Vec::new());
    let made = |i: usize, _: &Value| owner.event("POST", "/scheduled-transactions", Some(&bill(i)));
    let schedules = n.min(100);
    results.push(
        measure(
            setup,
            "scheduled-transactions-create",
            schedules,
            made,
            collect(&ids),
        )
        .await?,
    );
    let ids = ids.into_inner();
    let get = owner.event("GET", &format!("/scheduled-transactions/{}", ids[0]), None);
    results.push(measure(setup, "scheduled-transactions-get", n, |_, _| get.clone(), |_| {}).await?);
    let list = owner.event("GET", "/scheduled-transactions", None);
    results.push(
        measure(
            setup,
            "scheduled-transactions-list",
            n,
            |_, _| list.clone(),
            |_| {},
        )
        .await?,
    );
    let edit = |i: usize, _: &Value| {
        let body = json!({"amount": -(i as i64) - 1, "memo": format!("edit {i}")});
        owner.event(
            "PATCH",
            &format!("/scheduled-transactions/{}", ids[1]),
            Some(&body),
        )
    };
    results.push(measure(setup, "scheduled-transactions-update", n, edit, |_| {}).await?);
    let gone = |i: usize, _: &Value| {
        owner.event(
            "DELETE",
            &format!("/scheduled-transactions/{}", ids[(i + 3) % ids.len()]),
            None,
        )
    };
    results.push(
        measure(
            setup,
            "scheduled-transactions-delete",
            schedules - 3,
            gone,
            |_| {},
        )
        .await?,
    );

    // The API's own documentation: no Data API call.
    let document = owner.event("GET", "/openapi.json", None);
    results.push(measure(setup, "openapi", n, |_, _| document.clone(), |_| {}).await?);
    let page = owner.event("GET", "/docs", None);
    results.push(measure(setup, "docs", n, |_, _| page.clone(), |_| {}).await?);
    Ok(results)
}
