//! The migration engine and the `migrate` function, through data-api-local and real PostgreSQL.

use std::time::{Duration, Instant};

use data_api_local::{ErrorKind, Fault, Operation};
use functions::migrate::{Invocation, Margins, Migrator};
use harness::TestDataApi;
use harness::response_url::ResponseUrl;
use harness::schema::migrations;
use serde_json::{Value, json};
use shared::db::{Db, RetryPolicy};
use shared::migrate::{self, MigrateError, Migration, from_files};
use shared::schema::check::actual;

/// The committed versions, oldest first, and the newest.
fn versions() -> (Vec<i64>, i64) {
    let all: Vec<i64> = migrations().unwrap().iter().map(|m| m.version).collect();
    let newest = *all.last().unwrap();
    (all, newest)
}

fn soon(seconds: u64) -> Invocation {
    Invocation {
        deadline: Instant::now() + Duration::from_secs(seconds),
    }
}

async fn table_names(db: &Db) -> Vec<String> {
    let rows = db
        .execute(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            Vec::new(),
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0).unwrap()).collect()
}

fn broken_second_migration() -> Vec<Migration> {
    from_files([
        (
            "0001_first.up.sql",
            "CREATE TABLE first (id int PRIMARY KEY);\nCREATE INDEX ix_first ON first (id);",
        ),
        ("0001_first.down.sql", "DROP TABLE first;"),
        (
            "0002_second.up.sql",
            "CREATE TABLE second (id int);\nCREATE TABLE third (id int REFERENCES nowhere (id));",
        ),
        ("0002_second.down.sql", "DROP TABLE third;\nDROP TABLE second;"),
    ])
    .unwrap()
}

#[tokio::test]
async fn the_first_run_applies_everything_and_records_checksums() {
    let api = TestDataApi::start().await.unwrap();
    let db = api.db();
    let migrations = migrations().unwrap();
    let report = migrate::up(&db, &migrations, None).await.unwrap();
    assert_eq!(
        report.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        versions().0
    );
    let calls = api.calls();
    let statements: usize = migrations.iter().map(|m| m.up_statements().len()).sum();
    // A failed optimistic read, begin, lock, ledger, read, the statements, one record of all, commit.
    assert_eq!(calls.total, statements as u64 + 7, "{calls:?}");
    assert_eq!((calls.begin_transaction, calls.commit_transaction), (1, 1));

    let status = migrate::status(&db, &migrations).await.unwrap();
    assert_eq!(status.applied.len(), migrations.len());
    assert_eq!(status.applied[0].checksum, migrations[0].checksum);
    assert_eq!(status.applied[0].name, "initial_schema");
    assert!(status.pending.is_empty() && status.problems.is_empty());
}

#[tokio::test]
async fn a_second_run_is_a_single_read() {
    let api = TestDataApi::start().await.unwrap();
    let db = api.db();
    let migrations = migrations().unwrap();
    migrate::up(&db, &migrations, None).await.unwrap();
    let before = actual(&db).await.unwrap();
    api.emulator.service.reset_stats();
    let report = migrate::up(&db, &migrations, None).await.unwrap();
    assert!(report.steps.is_empty());
    assert_eq!(report.current_version, versions().1);
    assert_eq!(
        api.calls().total,
        1,
        "a deploy without schema changes costs one round trip"
    );
    assert_eq!(actual(&db).await.unwrap(), before);
}

#[tokio::test]
async fn two_runs_started_together_apply_each_migration_once() {
    let api = TestDataApi::start().await.unwrap();
    let migrations = migrations().unwrap();
    let (first, second) = (api.db(), api.db());
    let (a, b) = tokio::join!(
        migrate::up(&first, &migrations, None),
        migrate::up(&second, &migrations, None)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let applied = [a.steps.len(), b.steps.len()];
    assert!(
        applied == [migrations.len(), 0] || applied == [0, migrations.len()],
        "exactly one run applied the migrations: {a:?} {b:?}"
    );
    let ledger = first
        .execute("SELECT version FROM schema_migrations", Vec::new())
        .await
        .unwrap();
    assert_eq!(ledger.len(), migrations.len());
}

#[tokio::test]
async fn an_edited_applied_migration_is_refused() {
    let api = TestDataApi::start().await.unwrap();
    let db = api.db();
    let mut migrations = migrations().unwrap();
    migrate::up(&db, &migrations, None).await.unwrap();
    migrations[0].up.push_str("\n-- an innocent-looking edit\n");
    migrations[0].checksum = migrate::checksum(&migrations[0].up);
    let error = migrate::up(&db, &migrations, None).await.unwrap_err();
    assert!(
        matches!(error, MigrateError::ChecksumMismatch { version: 1, .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("migration 1 was applied but its file has changed")
    );
    let problems = migrate::status(&db, &migrations).await.unwrap().problems;
    assert_eq!(problems.len(), 1);
}

#[tokio::test]
async fn a_ledger_entry_without_a_file_is_refused() {
    let api = TestDataApi::start().await.unwrap();
    let db = api.db();
    let all = broken_second_migration();
    migrate::up(&db, &all[..1], None).await.unwrap();
    let error = migrate::up(&db, &[], None).await.unwrap_err();
    assert!(
        matches!(error, MigrateError::MissingFile { version: 1, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_migration_failing_half_way_leaves_no_trace() {
    let api = TestDataApi::start().await.unwrap();
    let db = api.db();
    let error = migrate::up(&db, &broken_second_migration(), None)
        .await
        .unwrap_err();
    let MigrateError::Statement {
        version, statement, ..
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!((*version, *statement), (2, 2), "{error}");
    assert_eq!(
        table_names(&db).await,
        Vec::<String>::new(),
        "no tables, not even the ledger"
    );
}

#[tokio::test]
async fn resuming_errors_are_retried_until_the_run_succeeds() {
    let api = TestDataApi::start().await.unwrap();
    let db = api.db().with_retry(RetryPolicy {
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        budget: Duration::from_secs(5),
        ..RetryPolicy::default()
    });
    api.emulator.service.inject(Fault {
        operations: Some(vec![Operation::BeginTransaction, Operation::ExecuteStatement]),
        ..Fault::new(ErrorKind::DatabaseResumingException, 3)
    });
    let report = migrate::up(&db, &migrations().unwrap(), None).await.unwrap();
    assert_eq!(report.current_version, versions().1);
    assert!(table_names(&db).await.contains(&"households".to_owned()));
}

#[tokio::test]
async fn the_engine_starts_no_statement_past_its_deadline() {
    let api = TestDataApi::start().await.unwrap();
    let db = api.db();
    let error = migrate::up(&db, &migrations().unwrap(), Some(Instant::now()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, MigrateError::DeadlineApproaching { version: 1 }),
        "{error}"
    );
    assert_eq!(table_names(&db).await, Vec::<String>::new());
}

// --- the function ---

/// A CloudFormation request to the `SchemaMigration` resource, whose properties (new and old)
/// name `api`'s database as template.yaml's do.
pub(crate) fn cfn_event(
    api: &TestDataApi,
    request_type: &str,
    response_url: &str,
    mut properties: Value,
    mut old: Option<Value>,
) -> Value {
    for properties in std::iter::once(&mut properties).chain(old.as_mut()) {
        if let Value::Object(map) = harness::schema::target_properties(api) {
            properties.as_object_mut().unwrap().extend(map);
        }
    }
    let mut event = json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:000000000000:function:migrate",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/budget/1234",
        "RequestId": "req-1",
        "LogicalResourceId": "SchemaMigration",
        "ResourceType": "Custom::SchemaMigration",
        "ResourceProperties": properties,
    });
    if request_type != "Create" {
        event["PhysicalResourceId"] = json!("budget-schema-migrations");
    }
    if let Some(old) = old {
        event["OldResourceProperties"] = old;
    }
    event
}

fn migrator(api: &TestDataApi, migrations: Vec<Migration>) -> Migrator {
    Migrator::with_migrations(api.db(), Ok(migrations))
}

#[tokio::test]
async fn create_and_update_migrate_and_answer_success() {
    let api = TestDataApi::start().await.unwrap();
    let url = ResponseUrl::start().await;
    let migrator = migrator(&api, migrations().unwrap());
    let (all, newest) = versions();
    let properties =
        json!({"ServiceToken": "x", "SchemaVersion": newest.to_string(), "FunctionVersion": "3"});

    migrator
        .handle(
            cfn_event(&api, "Create", &url.url, properties.clone(), None),
            soon(60),
        )
        .await
        .unwrap();
    let update = cfn_event(
        &api,
        "Update",
        &url.url,
        json!({"SchemaVersion": newest.to_string(), "FunctionVersion": "4"}),
        Some(properties),
    );
    migrator.handle(update, soon(60)).await.unwrap();

    let responses = url.responses();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0]["Status"], "SUCCESS");
    assert_eq!(responses[0]["PhysicalResourceId"], "budget-schema-migrations");
    assert_eq!(
        responses[0]["StackId"],
        "arn:aws:cloudformation:us-east-1:000000000000:stack/budget/1234"
    );
    assert_eq!(responses[0]["RequestId"], "req-1");
    assert_eq!(responses[0]["LogicalResourceId"], "SchemaMigration");
    assert_eq!(
        responses[0]["Data"],
        json!({
            "Applied": all.iter().map(|v| format!("{v:04}")).collect::<Vec<_>>().join(","),
            "CurrentVersion": format!("{newest:04}")
        })
    );
    assert_eq!(responses[1]["Status"], "SUCCESS");
    assert_eq!(responses[1]["Reason"], "no pending migrations");
    assert_eq!(
        responses[1]["PhysicalResourceId"], "budget-schema-migrations",
        "the id never changes"
    );
    let headers = &url.received.lock().unwrap()[0].0;
    assert_eq!(
        headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some(""),
        "S3 signed no content type"
    );
}

#[tokio::test]
async fn a_request_migrates_the_database_its_properties_name_not_the_environments() {
    // A new DatabaseName (or a replaced cluster) changes the properties, so CloudFormation sends an
    // Update; the function must migrate the database named there, whatever its environment says.
    let api = TestDataApi::start().await.unwrap();
    let renamed = harness::TestDatabase::create().await.unwrap();
    let url = ResponseUrl::start().await;
    let (all, newest) = versions();
    let migrator = migrator(&api, migrations().unwrap());
    let old = json!({"ServiceToken": "x", "SchemaVersion": newest.to_string(), "FunctionVersion": "3"});
    let mut event = cfn_event(&api, "Update", &url.url, old.clone(), Some(old.clone()));
    event["ResourceProperties"]["DatabaseName"] = json!(renamed.name);
    migrator.handle(event, soon(60)).await.unwrap();
    assert_eq!(url.responses()[0]["Status"], "SUCCESS", "{}", url.responses()[0]);
    let ledger = "SELECT count(*) FROM schema_migrations";
    let applied: i64 = renamed
        .connect()
        .await
        .unwrap()
        .query_one(ledger, &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        applied,
        i64::try_from(all.len()).unwrap(),
        "the named database is migrated"
    );
    let untouched = api.database.connect().await.unwrap();
    let exists: Option<String> = untouched
        .query_one("SELECT to_regclass('schema_migrations')::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(exists, None, "the environment's database is left alone");

    // A request that does not name its database fails, saying what is missing.
    let mut nameless = cfn_event(&api, "Create", &url.url, old, None);
    nameless["ResourceProperties"]
        .as_object_mut()
        .unwrap()
        .remove("MasterSecretArn");
    migrator.handle(nameless, soon(60)).await.unwrap();
    let failed = &url.responses()[1];
    assert_eq!(failed["Status"], "FAILED");
    assert!(
        failed["Reason"].as_str().unwrap().contains("MasterSecretArn"),
        "{failed}"
    );
}

#[tokio::test]
async fn a_rollback_after_a_new_database_touches_nothing_it_may_no_longer_reach() {
    // The forward deploy replaced the cluster: the function's role now reaches only the new one.
    // The rollback update names the old cluster and secrets again, with the older function
    // version: it must answer SUCCESS without a call, or the stack ends UPDATE_ROLLBACK_FAILED.
    let api = TestDataApi::start().await.unwrap();
    let url = ResponseUrl::start().await;
    let (_, newest) = versions();
    let migrator = migrator(&api, migrations().unwrap());
    let properties = |function: &str, generation: &str| {
        json!({"ServiceToken": "x", "SchemaVersion": newest.to_string(),
               "FunctionVersion": format!("arn:aws:lambda:us-east-1:000000000000:function:migrate:{function}"),
               "AppRoleGeneration": generation})
    };
    let unreachable = "arn:aws:secretsmanager:us-east-1:000000000000:secret:the-old-clusters-master";
    for (new, old) in [
        (properties("7", "1"), properties("8", "1")),
        (properties("8", "1"), properties("8", "2")),
    ] {
        let mut event = cfn_event(&api, "Update", &url.url, new, Some(old));
        event["ResourceProperties"]["MasterSecretArn"] = json!(unreachable);
        api.emulator.service.reset_stats();
        migrator.handle(event, soon(60)).await.unwrap();
        assert_eq!(api.calls().total, 0, "nothing was touched");
    }
    for response in url.responses() {
        assert_eq!(response["Status"], "SUCCESS", "{response}");
        assert!(
            response["Reason"].as_str().unwrap().contains("rollback"),
            "{response}"
        );
    }
}

#[tokio::test]
async fn delete_answers_success_and_leaves_the_data() {
    let api = TestDataApi::with_schema().await.unwrap();
    let url = ResponseUrl::start().await;
    let migrator = migrator(&api, migrations().unwrap());
    migrator
        .handle(
            cfn_event(&api, "Delete", &url.url, json!({"SchemaVersion": "1"}), None),
            soon(60),
        )
        .await
        .unwrap();
    assert_eq!(url.responses()[0]["Status"], "SUCCESS");
    assert!(table_names(&api.db()).await.contains(&"transactions".to_owned()));
}

#[tokio::test]
async fn an_update_back_to_an_older_schema_version_is_a_no_op() {
    let api = TestDataApi::start().await.unwrap();
    let url = ResponseUrl::start().await;
    let migrator = migrator(&api, migrations().unwrap());
    let rollback = cfn_event(
        &api,
        "Update",
        &url.url,
        json!({"SchemaVersion": "1"}),
        Some(json!({"SchemaVersion": "2"})),
    );
    migrator.handle(rollback, soon(60)).await.unwrap();
    assert_eq!(url.responses()[0]["Status"], "SUCCESS");
    assert_eq!(api.calls().total, 0, "a rollback does not touch the database");
}

#[tokio::test]
async fn a_failed_migration_answers_failed_with_the_reason() {
    let api = TestDataApi::start().await.unwrap();
    let url = ResponseUrl::start().await;
    let migrator = migrator(&api, broken_second_migration());
    migrator
        .handle(cfn_event(&api, "Create", &url.url, json!({}), None), soon(60))
        .await
        .unwrap();
    let response = &url.responses()[0];
    assert_eq!(response["Status"], "FAILED");
    let reason = response["Reason"].as_str().unwrap();
    assert!(
        reason.starts_with("migration 2 (second) failed at statement 2"),
        "{reason}"
    );
    assert!(serde_json::to_vec(response).unwrap().len() <= 4096);
    assert_eq!(table_names(&api.db()).await, Vec::<String>::new());
}

#[tokio::test]
async fn an_approaching_deadline_answers_failed_before_the_lambda_times_out() {
    let api = TestDataApi::start().await.unwrap();
    let url = ResponseUrl::start().await;
    let slow = from_files([
        (
            "0001_slow.up.sql",
            "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);",
        ),
        ("0001_slow.down.sql", "DROP TABLE slow;"),
    ])
    .unwrap();
    let mut migrator = migrator(&api, slow);
    migrator.margins = Margins {
        statement: Duration::ZERO,
        watchdog: Duration::from_secs(1),
    };
    let started = Instant::now();
    migrator
        .handle(cfn_event(&api, "Create", &url.url, json!({}), None), soon(3))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered before the deadline"
    );
    let response = &url.responses()[0];
    assert_eq!(response["Status"], "FAILED");
    assert!(
        response["Reason"]
            .as_str()
            .unwrap()
            .contains("did not finish before the Lambda deadline")
    );
}

#[tokio::test]
async fn direct_invocations_report_status_check_up_and_down() {
    let api = TestDataApi::start().await.unwrap();
    let migrator = migrator(&api, migrations().unwrap());
    let status = migrator
        .handle(json!({"action": "status"}), soon(60))
        .await
        .unwrap();
    let embedded: Vec<Value> = migrations()
        .unwrap()
        .iter()
        .map(|m| json!({"version": m.version, "name": m.name, "checksum": m.checksum}))
        .collect();
    assert_eq!(
        status,
        json!({"action": "status", "embedded": embedded, "applied": [], "pending": versions().0, "problems": []})
    );

    let up = migrator.handle(json!({"action": "up"}), soon(60)).await.unwrap();
    assert_eq!(up["applied"][0]["version"], 1);
    assert_eq!(up["currentVersion"], versions().1);

    let check = migrator
        .handle(json!({"action": "check"}), soon(60))
        .await
        .unwrap();
    assert_eq!(
        check,
        json!({"action": "check", "drift": false, "differences": []})
    );

    let refused = migrator
        .handle(json!({"action": "down", "to": "0"}), soon(60))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("\"confirm\": true"), "{refused}");
    let down = migrator
        .handle(json!({"action": "down", "to": "0", "confirm": true}), soon(60))
        .await
        .unwrap();
    assert_eq!(down["currentVersion"], 0);
    assert_eq!(table_names(&api.db()).await, ["schema_migrations"]);

    let unknown = migrator
        .handle(json!({"action": "sideways"}), soon(60))
        .await
        .unwrap_err();
    assert!(unknown.to_string().starts_with("unrecognised event"), "{unknown}");
}

// --- what a build carries (issue 10: another checkout's migrations, or none) ---

#[test]
fn the_build_embeds_exactly_this_checkouts_migrations() {
    let embedded = migrate::embedded().unwrap();
    let on_disk = migrations().unwrap();
    assert!(!on_disk.is_empty());
    assert_eq!(
        embedded, on_disk,
        "shared was built from other migrations than this checkout's; see shared/build.rs"
    );
}

#[tokio::test]
async fn a_build_without_migrations_never_reports_success() {
    let api = TestDataApi::start().await.unwrap();
    let migrator = migrator(&api, Vec::new());
    for action in ["up", "status"] {
        let error = migrator
            .handle(json!({ "action": action }), soon(60))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "NoMigrations", "{action}: {error}");
    }
    let down = migrator
        .handle(json!({"action": "down", "to": "0", "confirm": true}), soon(60))
        .await
        .unwrap_err();
    assert_eq!(down.kind(), "NoMigrations");

    let url = ResponseUrl::start().await;
    for (request_type, old) in [("Create", None), ("Update", Some(json!({"SchemaVersion": "1"})))] {
        let event = cfn_event(&api, request_type, &url.url, json!({"SchemaVersion": "1"}), old);
        migrator.handle(event, soon(60)).await.unwrap();
    }
    let responses = url.responses();
    assert_eq!(responses.len(), 2);
    for response in &responses {
        assert_eq!(response["Status"], "FAILED", "{response}");
        assert!(
            response["Reason"]
                .as_str()
                .unwrap()
                .contains("carries no migrations"),
            "{response}"
        );
    }
    assert_eq!(api.calls().total, 0, "nothing reached the database");
}

#[tokio::test]
async fn a_build_from_another_checkout_fails_the_deploy() {
    let api = TestDataApi::start().await.unwrap();
    let url = ResponseUrl::start().await;
    let committed = migrations().unwrap();
    let newest = committed.last().unwrap().version;
    let migrator = migrator(&api, committed);
    // The template names a newer schema than the function carries (built elsewhere), then an
    // older one on a create (not a rollback): both refused before any statement runs.
    for expected in [newest + 1, newest - 1] {
        let event = cfn_event(
            &api,
            "Create",
            &url.url,
            json!({"SchemaVersion": expected.to_string()}),
            None,
        );
        migrator.handle(event, soon(60)).await.unwrap();
    }
    let responses = url.responses();
    for (response, expected) in responses.iter().zip([newest + 1, newest - 1]) {
        assert_eq!(response["Status"], "FAILED");
        let reason = response["Reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("expects schema version {expected:04}"))
                && reason.contains(&format!("migrations up to {newest:04}")),
            "{reason}"
        );
    }
    assert_eq!(api.calls().total, 0);
    assert_eq!(table_names(&api.db()).await, Vec::<String>::new());
}
