//! Monthly budgets: assigned, activity, available and money to assign over several months, checked
//! against a model this test computes on its own from the rows it created: rollover of what is
//! left, overspending taken from the next month's money to assign, a future assignment, a split,
//! deleted rows, an off-budget account, transfers to it and between on-budget accounts.

use std::collections::BTreeMap;

use harness::TestApp;
use harness::app::{bearer_request, json_request};
use serde_json::{Value, json};
use shared::db::param;
use shared::domain::TransactionId;

/// A transaction row as this test inserts it (the transactions endpoints come later).
#[derive(Clone, Copy)]
struct Row<'a> {
    account: &'a Account,
    date: &'static str,
    amount: i64,
    category: Option<usize>,
    deleted: bool,
}

struct Account {
    id: String,
    on_budget: bool,
}

/// What the model needs to know of a stored row.
struct Counted {
    month: &'static str,
    amount: i64,
    category: Option<usize>,
    on_budget: bool,
    deleted: bool,
    /// A split parent (its lines carry the categories), or a transfer from an on-budget account.
    not_income: bool,
}

struct Household {
    session: Value,
    categories: Vec<String>,
    counted: Vec<Counted>,
}

const MONTHS: [&str; 6] = ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05"];

impl Household {
    async fn insert(
        &mut self,
        app: &TestApp,
        row: Row<'_>,
        parent: Option<&str>,
        transfer: Option<&str>,
    ) -> String {
        let id = TransactionId::new().to_string();
        app.api
            .db()
            .execute(
                "INSERT INTO transactions (id, household_id, account_id, date, amount, category_id, \
                   parent_id, transfer_transaction_id, created_by, deleted_at) \
                 VALUES (:id::uuid, :household::uuid, :account::uuid, :date::date, :amount, :category::uuid, \
                   :parent::uuid, :transfer::uuid, :user::uuid, CASE WHEN :deleted THEN now() END)",
                vec![
                    param("id", &id),
                    param("household", self.session["household_id"].as_str().unwrap()),
                    param("account", &row.account.id),
                    param("date", row.date),
                    param("amount", &row.amount),
                    param("category", &row.category.map(|c| self.categories[c].clone())),
                    param("parent", &parent),
                    param("transfer", &transfer),
                    param("user", self.session["user_id"].as_str().unwrap()),
                    param("deleted", &row.deleted),
                ],
            )
            .await
            .unwrap();
        id
    }

    /// One plain transaction.
    async fn record(&mut self, app: &TestApp, row: Row<'_>) {
        self.insert(app, row, None, None).await;
        self.count(row, false);
    }

    /// A split: the parent without a category, and its lines.
    async fn split(&mut self, app: &TestApp, parent: Row<'_>, lines: &[(i64, usize)]) {
        let id = self.insert(app, parent, None, None).await;
        self.count(parent, true);
        for &(amount, category) in lines {
            let line = Row {
                amount,
                category: Some(category),
                ..parent
            };
            self.insert(app, line, Some(&id), None).await;
            self.count(line, false);
        }
    }

    /// Both legs of a transfer; the outflow may take a category.
    async fn transfer(&mut self, app: &TestApp, from: Row<'_>, to: &Account) {
        let out = self.insert(app, from, None, None).await;
        let inflow = Row {
            account: to,
            amount: -from.amount,
            category: None,
            ..from
        };
        let back = self.insert(app, inflow, None, Some(&out)).await;
        app.api
            .db()
            .execute(
                "UPDATE transactions SET transfer_transaction_id = :back::uuid WHERE id = :out::uuid",
                vec![param("back", &back), param("out", &out)],
            )
            .await
            .unwrap();
        self.count(from, false);
        self.count(inflow, from.account.on_budget);
    }

    fn count(&mut self, row: Row<'_>, not_income: bool) {
        self.counted.push(Counted {
            month: &row.date[..7],
            amount: row.amount,
            category: row.category,
            on_budget: row.account.on_budget,
            deleted: row.deleted,
            not_income,
        });
    }
}

/// The month figures of the rules in the issue, computed month by month.
#[derive(Debug, Default, Clone, PartialEq)]
struct Expected {
    income: i64,
    assigned: i64,
    activity: i64,
    ready_to_assign: i64,
    overspent_last_month: i64,
    /// (assigned, activity, available) per category.
    categories: Vec<(i64, i64, i64)>,
}

fn model(household: &Household, assigned: &BTreeMap<(&str, usize), i64>) -> BTreeMap<&'static str, Expected> {
    let n = household.categories.len();
    let live = || household.counted.iter().filter(|c| c.on_budget && !c.deleted);
    let mut available = vec![0_i64; n];
    let (mut income_so_far, mut assigned_so_far, mut overspent_before) = (0, 0, 0);
    let mut last_overspent = 0;
    let mut months = BTreeMap::new();
    for month in MONTHS {
        let mut expected = Expected {
            income: live()
                .filter(|c| c.month == month && c.category.is_none() && c.amount > 0 && !c.not_income)
                .map(|c| c.amount)
                .sum(),
            ..Expected::default()
        };
        let mut overspent = 0;
        for (category, balance) in available.iter_mut().enumerate() {
            let given = assigned.get(&(month, category)).copied().unwrap_or(0);
            let spent: i64 = live()
                .filter(|c| c.month == month && c.category == Some(category))
                .map(|c| c.amount)
                .sum();
            *balance = (*balance).max(0) + given + spent;
            overspent += (-*balance).max(0);
            expected.assigned += given;
            expected.activity += spent;
            expected.categories.push((given, spent, *balance));
        }
        income_so_far += expected.income;
        assigned_so_far += expected.assigned;
        expected.ready_to_assign = income_so_far - assigned_so_far - overspent_before;
        expected.overspent_last_month = last_overspent;
        overspent_before += overspent;
        last_overspent = overspent;
        months.insert(month, expected);
    }
    months
}

/// What `GET /months/{month}` answered, in the model's shape (categories in `categories` order).
fn observed(body: &Value, categories: &[String]) -> Expected {
    let by_id: BTreeMap<&str, &Value> = body["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["category_id"].as_str().unwrap(), c))
        .collect();
    let figure = |c: &Value, key: &str| c[key].as_i64().unwrap();
    Expected {
        income: figure(body, "income"),
        assigned: figure(body, "assigned"),
        activity: figure(body, "activity"),
        ready_to_assign: figure(body, "ready_to_assign"),
        overspent_last_month: figure(body, "overspent_last_month"),
        categories: categories
            .iter()
            .map(|id| {
                let c = by_id[id.as_str()];
                (
                    figure(c, "assigned"),
                    figure(c, "activity"),
                    figure(c, "available"),
                )
            })
            .collect(),
    }
}

async fn month(app: &TestApp, session: &Value, month: &str) -> harness::TestResponse {
    let request = bearer_request("GET", &format!("/months/{month}"), session);
    app.send(&functions::registry::MONTHS_GET, request).await
}

async fn assign(
    app: &TestApp,
    session: &Value,
    month: &str,
    category: &str,
    amount: Value,
) -> harness::TestResponse {
    let path = format!("/months/{month}/categories/{category}");
    let request = json_request(
        "PUT",
        &path,
        &json!({ "assigned": amount }),
        Some(harness::app::access_token(session)),
    );
    app.send(&functions::registry::MONTHS_ASSIGN, request).await
}

/// The household's categories (id, name), in the list's order.
async fn categories_of(app: &TestApp, session: &Value) -> Vec<(String, String)> {
    let request = bearer_request("GET", "/category-groups", session);
    let groups = app
        .send(&functions::registry::CATEGORY_GROUPS_LIST, request)
        .await;
    groups.body["category_groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["categories"].as_array().unwrap().clone())
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn category_ids(app: &TestApp, session: &Value) -> Vec<String> {
    categories_of(app, session)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

#[tokio::test]
async fn budgets_over_months_match_the_rules_with_rollover_overspending_and_transfers() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("budget@example.com").await;
    let named = categories_of(&app, &session).await;
    let index = |name: &str| named.iter().position(|(_, n)| n == name).unwrap();
    let (rent, groceries, vacation) = (index("Rent"), index("Groceries"), index("Vacation"));
    let categories: Vec<String> = named.iter().map(|(id, _)| id.clone()).collect();
    let account = |body: Value| {
        let app = &app;
        let session = &session;
        async move {
            let created = app.create_account(session, &body).await;
            Account {
                id: created.body["id"].as_str().unwrap().to_owned(),
                on_budget: created.body["on_budget"].as_bool().unwrap(),
            }
        }
    };
    let checking = account(json!({"name": "Checking", "kind": "checking"})).await;
    let wallet = account(json!({"name": "Wallet", "kind": "cash"})).await;
    let savings = account(json!({"name": "Savings", "kind": "savings", "on_budget": false})).await;
    let mut household = Household {
        session: session.clone(),
        categories: categories.clone(),
        counted: Vec::new(),
    };
    let row = |account, date, amount, category| Row {
        account,
        date,
        amount,
        category,
        deleted: false,
    };

    // January: pay and opening money, rent, groceries overspent.
    household
        .record(&app, row(&checking, "2026-01-02", 3_000_000, None))
        .await;
    household
        .record(&app, row(&checking, "2026-01-05", -1_000_000, Some(rent)))
        .await;
    household
        .record(&app, row(&checking, "2026-01-10", -400_000, Some(groceries)))
        .await;
    // February: pay, groceries, a deleted purchase, an off-budget purchase with a category.
    household
        .record(&app, row(&checking, "2026-02-01", 2_000_000, None))
        .await;
    household
        .record(&app, row(&checking, "2026-02-11", -250_000, Some(groceries)))
        .await;
    household
        .record(
            &app,
            Row {
                deleted: true,
                ..row(&checking, "2026-02-12", -999_000, Some(groceries))
            },
        )
        .await;
    household
        .record(&app, row(&savings, "2026-02-13", -20_000, Some(groceries)))
        .await;
    // March: to savings (off-budget, spending from Vacation), to the wallet (on-budget, not
    // income), a split, and an inflow to savings (off-budget, not income).
    household
        .transfer(
            &app,
            row(&checking, "2026-03-03", -500_000, Some(vacation)),
            &savings,
        )
        .await;
    household
        .transfer(&app, row(&checking, "2026-03-04", -100_000, None), &wallet)
        .await;
    household
        .split(
            &app,
            row(&wallet, "2026-03-09", -80_000, None),
            &[(-50_000, groceries), (-30_000, rent)],
        )
        .await;
    household
        .record(&app, row(&savings, "2026-03-20", 70_000, None))
        .await;

    // Assign month by month (April in the future of the data), checking every answer.
    let plan = [
        ("2026-01", rent, 1_000_000),
        ("2026-01", groceries, 300_000),
        ("2026-02", groceries, 300_000),
        ("2026-02", vacation, 200_000),
        ("2026-03", vacation, 250_000),
        ("2026-02", vacation, 400_000),
        ("2026-04", rent, 1_000_000),
    ];
    let mut assigned = BTreeMap::new();
    for (when, category, amount) in plan {
        assigned.insert((when, category), amount);
        let expected = &model(&household, &assigned)[when];
        app.reset_calls();
        let answer = assign(&app, &session, when, &categories[category], json!(amount)).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(app.calls(), 1);
        let (given, spent, available) = expected.categories[category];
        assert_eq!(
            [
                &answer.body["assigned"],
                &answer.body["activity"],
                &answer.body["available"],
                &answer.body["ready_to_assign"]
            ],
            [
                &json!(given),
                &json!(spent),
                &json!(available),
                &json!(expected.ready_to_assign)
            ],
            "{when}"
        );
        assert_eq!(answer.body["month"], when);
        assert_eq!(answer.body["category_id"], categories[category]);
    }

    let expected = model(&household, &assigned);
    // The model itself shows what is being tested: groceries overspent in January, money left
    // over in February, a future assignment.
    assert!(expected["2026-01"].categories[groceries].2 < 0);
    assert!(expected["2026-02"].overspent_last_month > 0);
    assert!(expected["2026-03"].categories[vacation].2 > 0);
    for when in MONTHS {
        app.reset_calls();
        let answer = month(&app, &session, when).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(app.calls(), 1);
        assert_eq!(answer.body["month"], when);
        assert_eq!(observed(&answer.body, &categories), expected[when], "{when}");
    }

    app.reset_calls();
    let request = bearer_request("GET", "/months", &session);
    let listed = app.send(&functions::registry::MONTHS_LIST, request).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(app.calls(), 1);
    let summaries: Vec<(String, i64, i64, i64, i64)> = listed.body["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let f = |k: &str| m[k].as_i64().unwrap();
            (
                m["month"].as_str().unwrap().to_owned(),
                f("income"),
                f("assigned"),
                f("activity"),
                f("ready_to_assign"),
            )
        })
        .collect();
    let want: Vec<(String, i64, i64, i64, i64)> = ["2026-01", "2026-02", "2026-03", "2026-04"]
        .iter()
        .map(|m| {
            let e = &expected[m];
            (
                (*m).to_owned(),
                e.income,
                e.assigned,
                e.activity,
                e.ready_to_assign,
            )
        })
        .collect();
    assert_eq!(summaries, want);
}

#[tokio::test]
async fn months_and_categories_of_other_households_are_not_found_and_untouched() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let adas = category_ids(&app, &ada).await;
    let given = assign(&app, &ada, "2026-03", &adas[0], json!(5_000)).await;
    assert_eq!(given.status, 200);

    for category in [adas[0].as_str(), "not-a-uuid", &TransactionId::new().to_string()] {
        let answer = assign(&app, &bob, "2026-03", category, json!(9_999)).await;
        assert_eq!(answer.status, 404, "{category}: {:?}", answer.body);
    }
    for when in ["2026-13", "26-03", "2200-01", "1899-12", "march"] {
        let answer = month(&app, &bob, when).await;
        assert_eq!(answer.status, 404, "{when}");
        let answer = assign(&app, &ada, when, &adas[0], json!(1)).await;
        assert_eq!(answer.status, 404, "{when}");
    }
    // Bob's month shows only his categories, with nothing assigned; Ada's allocation is as she set it.
    let bobs = month(&app, &bob, "2026-03").await;
    assert!(
        bobs.body["categories"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["assigned"] == 0)
    );
    assert!(!bobs.body.to_string().contains(&adas[0]));
    let rows = app
        .api
        .db()
        .execute("SELECT assigned FROM budget_allocations", vec![])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows.first().unwrap().get::<i64>(0).unwrap(), 5_000);
}

#[tokio::test]
async fn an_assignment_must_be_whole_milliunits_in_range() {
    let app = TestApp::spawn().await.unwrap();
    let ada = app.register("ada@example.com").await;
    let category = category_ids(&app, &ada).await.remove(0);
    for bad in [
        json!(1.5),
        json!("10"),
        json!(null),
        json!(1_000_000_000_000_000_i64),
    ] {
        let answer = assign(&app, &ada, "2026-03", &category, bad.clone()).await;
        assert_eq!(answer.status, 422, "{bad}: {:?}", answer.body);
    }
    let path = format!("/months/2026-03/categories/{category}");
    let extra = json_request(
        "PUT",
        &path,
        &json!({"assigned": 1, "note": "x"}),
        Some(harness::app::access_token(&ada)),
    );
    assert_eq!(
        app.send(&functions::registry::MONTHS_ASSIGN, extra).await.status,
        422
    );
    let rows = app
        .api
        .db()
        .execute("SELECT count(*) FROM budget_allocations", vec![])
        .await
        .unwrap();
    assert_eq!(rows.first().unwrap().get::<i64>(0).unwrap(), 0);

    // Negative assignments (taking money back) are allowed.
    let back = assign(&app, &ada, "2026-03", &category, json!(-2_000)).await;
    assert_eq!(back.status, 200);
    assert_eq!(back.body["ready_to_assign"], 2_000);
}
