//! Least privilege in the database: the API functions log in as the application role, which may
//! read and write the service's rows and nothing else; the migrate function (master) keeps that
//! role, its password and its grants on every deploy, tables added later included.

use std::time::{Duration, Instant};

use base64::Engine;
use functions::migrate::{AppRoleSecret, Invocation, Migrator, handle_event};
use harness::TestDataApi;
use harness::data_api::{APP_ROLE, APP_SECRET_ARN, secrets_client};
use harness::schema::{app_db, migrations};
use serde_json::{Value, json};
use shared::db::{Db, DbError, MissingEnv};
use shared::migrate::{Migration, app_role::scram_verifier, from_files};

fn soon() -> Invocation {
    Invocation {
        deadline: Instant::now() + Duration::from_secs(60),
    }
}

/// The SQLState a statement failed with, or "ok".
async fn outcome(db: &Db, sql: &str) -> String {
    match db.execute(sql, Vec::new()).await {
        Ok(_) => "ok".to_owned(),
        Err(DbError::Database { sql_state, .. }) => sql_state,
        Err(other) => format!("{other}"),
    }
}

const INSUFFICIENT_PRIVILEGE: &str = "42501";

#[tokio::test]
async fn the_api_login_reads_and_writes_rows_but_cannot_change_the_schema() {
    let api = TestDataApi::with_schema().await.unwrap();
    let app = api.app_db();
    assert_eq!(outcome(&app, "SELECT count(*) FROM households").await, "ok");
    assert_eq!(
        outcome(
            &app,
            "INSERT INTO households (id, name, currency_code) VALUES (gen_random_uuid(), 'h', 'USD')"
        )
        .await,
        "ok"
    );
    assert_eq!(outcome(&app, "DELETE FROM households").await, "ok");
    for statement in [
        "DROP TABLE transactions",
        "TRUNCATE transactions",
        "ALTER TABLE accounts ADD COLUMN color text",
        "CREATE TABLE intruder (id int)",
        "CREATE INDEX ix_intruder ON payees (name)",
        "SELECT * FROM schema_migrations",
        "DELETE FROM schema_migrations",
        "CREATE ROLE intruder",
    ] {
        assert_eq!(
            outcome(&app, statement).await,
            INSUFFICIENT_PRIVILEGE,
            "{statement}"
        );
    }
    // The master still can, and the table is still there.
    assert_eq!(
        outcome(&api.db(), "SELECT count(*) FROM transactions").await,
        "ok"
    );
}

/// The committed migrations plus one more that adds a table.
fn with_a_later_table() -> Vec<Migration> {
    let mut files: Vec<(String, String)> = migrations()
        .unwrap()
        .iter()
        .flat_map(|m| {
            [
                (format!("{:04}_{}.up.sql", m.version, m.name), m.up.clone()),
                (format!("{:04}_{}.down.sql", m.version, m.name), m.down.clone()),
            ]
        })
        .collect();
    files.push(("0099_later.up.sql".into(), "CREATE TABLE later (id int)".into()));
    files.push(("0099_later.down.sql".into(), "DROP TABLE later".into()));
    from_files(files.iter().map(|(n, c)| (n.as_str(), c.as_str()))).unwrap()
}

fn migrator(api: &TestDataApi, migrations: Vec<Migration>, secret_arn: &str) -> Migrator {
    let mut migrator = Migrator::with_migrations(api.db(), Ok(migrations));
    migrator.app_role = Some(AppRoleSecret {
        client: secrets_client(&api.endpoint()),
        arn: secret_arn.to_owned(),
    });
    migrator
}

/// A deploy of `migrations`: the migrate function's `up` with the application role's secret.
async fn deploy(api: &TestDataApi, migrations: Vec<Migration>) {
    api.emulator.service.reset_stats();
    migrator(api, migrations, APP_SECRET_ARN)
        .handle(json!({"action": "up"}), soon())
        .await
        .unwrap();
}

#[tokio::test]
async fn every_deploy_keeps_the_role_and_grants_tables_added_later() {
    let api = TestDataApi::start().await.unwrap();
    let app = app_db(&api);
    deploy(&api, migrations().unwrap()).await;
    assert_eq!(outcome(&app, "SELECT count(*) FROM accounts").await, "ok");

    deploy(&api, with_a_later_table()).await;
    assert_eq!(
        outcome(&app, "INSERT INTO later VALUES (1)").await,
        "ok",
        "granted in the same deploy"
    );
    assert_eq!(outcome(&app, "DROP TABLE later").await, INSUFFICIENT_PRIVILEGE);

    deploy(&api, with_a_later_table()).await;
    assert_eq!(
        api.calls().total,
        2,
        "a deploy without schema change: the ledger read and the role upkeep"
    );
}

#[tokio::test]
async fn an_unreadable_role_secret_fails_the_run_and_says_why() {
    let api = TestDataApi::start().await.unwrap();
    let missing = "arn:aws:secretsmanager:us-east-1:000000000000:secret:nowhere";
    let error = migrator(&api, migrations().unwrap(), missing)
        .handle(json!({"action": "up"}), soon())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "AppRoleFailed");
    assert!(error.to_string().contains("ResourceNotFoundException"), "{error}");
}

#[tokio::test]
async fn the_password_reaches_postgresql_as_the_verifier_it_would_compute_itself() {
    // PostgreSQL hashes a plain-text password with a random salt; the same password and salt
    // must give the same verifier here, or the role could not log in on Aurora.
    let api = TestDataApi::start().await.unwrap();
    let db = api.db();
    let role = format!("scram_check_{}", std::process::id());
    let password = "correct horse battery staple";
    let _ = db
        .execute(&format!("DROP ROLE IF EXISTS {role}"), Vec::new())
        .await;
    // PostgreSQL 14 and later (and Aurora) hash new passwords with SCRAM-SHA-256 by default.
    db.execute(&format!("CREATE ROLE {role} PASSWORD '{password}'"), Vec::new())
        .await
        .unwrap();
    // Only a superuser reads pg_authid (Aurora's master cannot): read it over a direct connection.
    let superuser = api.database.connect().await.unwrap();
    let stored: String = superuser
        .query_one("SELECT rolpassword FROM pg_authid WHERE rolname = $1", &[&role])
        .await
        .unwrap()
        .get(0);
    db.execute(&format!("DROP ROLE {role}"), Vec::new())
        .await
        .unwrap();
    let salt_b64 = stored
        .split('$')
        .nth(1)
        .and_then(|s| s.split(':').nth(1))
        .unwrap();
    let salt = base64::engine::general_purpose::STANDARD
        .decode(salt_b64)
        .unwrap();
    assert_eq!(scram_verifier(password, &salt), stored);
    assert_ne!(APP_ROLE, role);
}

#[tokio::test]
async fn a_migrate_function_that_cannot_start_answers_cloudformation_at_once() {
    let url = harness::response_url::ResponseUrl::start().await;
    let broken: Result<Migrator, MissingEnv> = Err(MissingEnv("APP_DB_SECRET_ARN"));
    let http = reqwest::Client::new();
    for request_type in ["Create", "Update", "Delete"] {
        let mut event = json!({
            "RequestType": request_type,
            "ResponseURL": url.url,
            "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/budget/1",
            "RequestId": format!("req-{request_type}"),
            "LogicalResourceId": "SchemaMigration",
            "ResourceType": "Custom::SchemaMigration",
            "ServiceToken": "arn:aws:lambda:us-east-1:000000000000:function:migrate",
            "ResourceProperties": {"SchemaVersion": "1"},
        });
        if request_type != "Create" {
            event["PhysicalResourceId"] = json!("budget-schema-migrations");
            event["OldResourceProperties"] = json!({"SchemaVersion": "1"});
        }
        handle_event(&broken, &http, event, soon()).await.unwrap();
    }
    let statuses: Vec<(Value, Value)> = url
        .responses()
        .into_iter()
        .map(|r| (r["Status"].clone(), r["Reason"].clone()))
        .collect();
    assert_eq!(statuses.len(), 3);
    for (status, reason) in &statuses[..2] {
        assert_eq!(status, "FAILED");
        assert!(reason.as_str().unwrap().contains("APP_DB_SECRET_ARN"), "{reason}");
    }
    assert_eq!(
        statuses[2].0, "SUCCESS",
        "a broken function never blocks deleting the stack"
    );
    let direct = handle_event(&broken, &http, json!({"action": "up"}), soon())
        .await
        .unwrap_err();
    assert_eq!(direct.kind(), "Unconfigured");
}

#[tokio::test]
async fn the_application_role_runs_its_statements_at_repeatable_read() {
    let api = TestDataApi::with_schema().await.unwrap();
    let rows = app_db(&api)
        .execute("SELECT current_setting('transaction_isolation')", Vec::new())
        .await
        .unwrap();
    let isolation: String = rows.first().unwrap().get(0).unwrap();
    assert_eq!(
        isolation, "repeatable read",
        "writes from a stale snapshot fail and run again"
    );
    let rows = app_db(&api)
        .execute("SELECT current_setting('statement_timeout')", Vec::new())
        .await
        .unwrap();
    let timeout: String = rows.first().unwrap().get(0).unwrap();
    assert_eq!(
        timeout, "20s",
        "under the functions' 25 s: PostgreSQL cancels a runaway statement"
    );
}

#[tokio::test]
async fn the_role_upkeep_works_as_auroras_master_where_the_old_statement_failed() {
    // Aurora's master lacks SUPERUSER and REPLICATION, and PostgreSQL refuses any ALTER ROLE that
    // names them, even to turn them off: the statement the upkeep ran before failed every first
    // deploy (the migrations committed, the custom resource answered FAILED, the stack rolled back).
    let api = TestDataApi::with_schema().await.unwrap();
    let db = api.db();
    let role = format!("upkeep_check_{}", std::process::id());
    let password = "a password of sixteen or more characters";
    let superuser = api.database.connect().await.unwrap();
    superuser
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}"))
        .await
        .ok();
    assert_eq!(outcome(&db, &format!("CREATE ROLE {role}")).await, "ok");
    let before = format!(
        "ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '{password}'"
    );
    assert_eq!(outcome(&db, &before).await, INSUFFICIENT_PRIVILEGE, "{before}");

    let kept = shared::migrate::AppRole::new(&role, password).unwrap();
    shared::migrate::app_role::keep(&db, &kept).await.unwrap();
    let attributes = superuser
        .query_one(
            "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, \
               array_to_string(rolconfig, ',') FROM pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await
        .unwrap();
    let flags: Vec<bool> = (0..6).map(|i| attributes.get(i)).collect();
    assert_eq!(flags, [true, false, false, false, false, false]);
    assert_eq!(
        attributes.get::<_, String>(6),
        "default_transaction_isolation=repeatable read,statement_timeout=20s"
    );

    // A role a superuser made too powerful cannot be fixed by the master: refused, and said why.
    superuser
        .batch_execute(&format!("ALTER ROLE {role} BYPASSRLS"))
        .await
        .unwrap();
    let refused = shared::migrate::app_role::keep(&db, &kept).await.unwrap_err();
    assert!(refused.to_string().contains("BYPASSRLS"), "{refused}");
    superuser
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .unwrap();
}
