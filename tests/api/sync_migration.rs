//! The delta-sync migration (0004) on a database that already holds data: every row is kept,
//! existing rows read as known before any change (knowledge 0), the triggers stamp and tombstone
//! from the first write on, and down then up again leaves the same schema with no drift.

use harness::TestDataApi;
use harness::schema::migrations;
use shared::db::Db;
use shared::migrate;
use shared::schema::check::{actual, check};
use shared::schema::tables;

const DELTA_SYNC: i64 = 4;

/// The newest committed migration: a deploy brings the database there, delta sync and after.
fn newest_version() -> i64 {
    migrations().unwrap().last().unwrap().version
}

/// The versions from delta sync to the newest, as the migrate function reports them applied.
fn from_delta_sync() -> String {
    (DELTA_SYNC..=newest_version())
        .map(|v| format!("{v:04}"))
        .collect::<Vec<_>>()
        .join(",")
}

const HOUSEHOLD: &str = "0190a5e6-0000-7000-8000-000000000001";

/// The one value `sql` selects, as a bigint (sums of bigints are numeric).
async fn scalar(db: &Db, sql: &str) -> i64 {
    let sql = format!("SELECT ({sql})::bigint");
    db.execute(&sql, Vec::new())
        .await
        .unwrap()
        .first()
        .unwrap()
        .get(0)
        .unwrap()
}

/// A household with a member, an account, a payee, a category and `n` transactions, written
/// as the schema before delta sync allows.
async fn fill(db: &Db, n: i64) {
    let statements = [
        format!("INSERT INTO households (id, name) VALUES ('{HOUSEHOLD}', 'Before')"),
        format!(
            "INSERT INTO users (id, household_id, email, password_hash, display_name, role) VALUES \
             ('0190a5e6-0000-7000-8000-0000000000a1', '{HOUSEHOLD}', 'a@x.io', 'h', 'A', 'owner')"
        ),
        format!(
            "INSERT INTO accounts (id, household_id, name, kind) VALUES \
             ('0190a5e6-0000-7000-8000-0000000000b1', '{HOUSEHOLD}', 'Checking', 'checking')"
        ),
        format!(
            "INSERT INTO payees (id, household_id, name) VALUES \
             ('0190a5e6-0000-7000-8000-0000000000c1', '{HOUSEHOLD}', 'Shop')"
        ),
        format!(
            "INSERT INTO category_groups (id, household_id, name) VALUES \
             ('0190a5e6-0000-7000-8000-0000000000d1', '{HOUSEHOLD}', 'Bills')"
        ),
        format!(
            "INSERT INTO categories (id, household_id, category_group_id, name) VALUES \
             ('0190a5e6-0000-7000-8000-0000000000e1', '{HOUSEHOLD}', '0190a5e6-0000-7000-8000-0000000000d1', 'Rent')"
        ),
        format!(
            "INSERT INTO transactions (id, household_id, account_id, date, amount, payee_id, category_id, created_by) \
             SELECT ('0190a5e6-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, '{HOUSEHOLD}', \
                    '0190a5e6-0000-7000-8000-0000000000b1', date '2026-01-01' + (i % 300), -i, \
                    '0190a5e6-0000-7000-8000-0000000000c1', '0190a5e6-0000-7000-8000-0000000000e1', \
                    '0190a5e6-0000-7000-8000-0000000000a1' \
             FROM generate_series(4096, 4095 + {n}) AS i"
        ),
    ];
    for sql in statements {
        db.execute(&sql, Vec::new()).await.unwrap();
    }
}

const COUNTS: &str = "SELECT (SELECT count(*) FROM households) * 1000000 + (SELECT count(*) FROM users) * 100000 \
     + (SELECT count(*) FROM accounts) * 10000 + (SELECT count(*) FROM payees) * 1000 \
     + (SELECT count(*) FROM categories) * 100 + (SELECT count(*) FROM transactions)";

#[tokio::test]
async fn delta_sync_migrates_a_database_with_data_and_goes_down_and_up_again() {
    let api = TestDataApi::with_schema().await.unwrap();
    let db = api.db();
    let all = migrations().unwrap();
    let newest = actual(&db).await.unwrap();
    migrate::down(&db, &all, DELTA_SYNC - 1, None).await.unwrap();
    let transactions = 50;
    fill(&db, transactions).await;
    let rows_before = scalar(&db, COUNTS).await;
    let amounts_before = scalar(&db, "SELECT sum(amount) FROM transactions").await;

    let report = migrate::up(&db, &all, None).await.unwrap();
    assert_eq!(report.current_version, newest_version());
    assert_eq!(scalar(&db, COUNTS).await, rows_before, "every row kept");
    assert_eq!(
        scalar(&db, "SELECT sum(amount) FROM transactions").await,
        amounts_before
    );
    let stamped = "SELECT (SELECT sum(server_knowledge) FROM households) \
                   + (SELECT sum(knowledge) FROM transactions) + (SELECT sum(knowledge) FROM accounts) \
                   + (SELECT sum(knowledge) FROM users) + (SELECT count(*) FROM tombstones)";
    assert_eq!(
        scalar(&db, stamped).await,
        0,
        "existing rows read as known before any change"
    );
    assert_eq!(actual(&db).await.unwrap(), newest);
    assert!(check(&db, &tables::schema()).await.unwrap().is_empty());

    // From the first write on, each write raises the household's knowledge and stamps its row;
    // a delete leaves a tombstone.
    let writes = [
        "UPDATE transactions SET memo = 'edited' WHERE id = '0190a5e6-0000-7000-8000-000000001000'"
            .to_owned(),
        format!(
            "INSERT INTO payees (id, household_id, name) VALUES ('0190a5e6-0000-7000-8000-0000000000c2', '{HOUSEHOLD}', 'Gone')"
        ),
        "DELETE FROM payees WHERE name = 'Gone'".to_owned(),
    ];
    for sql in &writes {
        db.execute(sql, Vec::new()).await.unwrap();
    }
    assert_eq!(scalar(&db, "SELECT server_knowledge FROM households").await, 3);
    assert_eq!(
        scalar(&db, "SELECT knowledge FROM transactions WHERE memo = 'edited'").await,
        1
    );
    assert_eq!(
        scalar(&db, "SELECT knowledge FROM tombstones WHERE id = '0190a5e6-0000-7000-8000-0000000000c2' AND kind = 'payees'").await,
        3
    );

    migrate::down(&db, &all, DELTA_SYNC - 1, None).await.unwrap();
    assert_eq!(scalar(&db, COUNTS).await, rows_before, "down keeps the rows too");
    migrate::up(&db, &all, None).await.unwrap();
    assert_eq!(
        actual(&db).await.unwrap(),
        newest,
        "down and up again: the same schema"
    );
    assert!(check(&db, &tables::schema()).await.unwrap().is_empty());
}

/// A CloudFormation Update of `SchemaMigration` from schema version `from` to `to`.
fn update_event(api: &TestDataApi, response_url: &str, from: i64, to: i64) -> serde_json::Value {
    let properties = |version: i64, function: &str| serde_json::json!({"ServiceToken": "x", "SchemaVersion": version.to_string(), "FunctionVersion": function});
    crate::migrate::cfn_event(
        api,
        "Update",
        response_url,
        properties(to, "5"),
        Some(properties(from, "4")),
    )
}

#[tokio::test]
async fn the_migrate_function_applies_delta_sync_on_a_stack_update_and_a_redeploy_is_one_call() {
    let api = TestDataApi::with_schema().await.unwrap();
    let db = api.db();
    let all = migrations().unwrap();
    migrate::down(&db, &all, DELTA_SYNC - 1, None).await.unwrap();
    fill(&db, 20).await;
    let rows_before = scalar(&db, COUNTS).await;
    let url = harness::response_url::ResponseUrl::start().await;
    let migrator = functions::migrate::Migrator::with_migrations(db.clone(), Ok(all));
    let invocation = || functions::migrate::Invocation {
        deadline: std::time::Instant::now() + std::time::Duration::from_secs(60),
    };

    migrator
        .handle(
            update_event(&api, &url.url, DELTA_SYNC - 1, newest_version()),
            invocation(),
        )
        .await
        .unwrap();
    api.emulator.service.reset_stats();
    migrator
        .handle(
            update_event(&api, &url.url, newest_version(), newest_version()),
            invocation(),
        )
        .await
        .unwrap();
    assert_eq!(
        api.calls().total,
        1,
        "a deploy without schema changes reads the ledger only"
    );

    let responses = url.responses();
    assert_eq!(responses[0]["Status"], "SUCCESS", "{:?}", responses[0]);
    assert_eq!(responses[0]["Data"]["Applied"], from_delta_sync());
    assert_eq!(responses[1]["Status"], "SUCCESS");
    assert_eq!(responses[1]["Reason"], "no pending migrations");
    assert_eq!(scalar(&db, COUNTS).await, rows_before);
    assert!(check(&db, &tables::schema()).await.unwrap().is_empty());
}
