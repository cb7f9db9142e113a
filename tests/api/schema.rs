//! The table mappings are the single source of truth: the committed migrations produce exactly
//! them (no drift), can be undone and redone, and the drift check notices every kind of change.

use harness::TestDataApi;
use harness::schema::migrations;
use shared::db::Db;
use shared::migrate;
use shared::schema::check::{actual, check};
use shared::schema::diff::{self, Difference};
use shared::schema::model::{Column, ConstraintKind, Index, MAX_IDENTIFIER_LEN};
use shared::schema::{render, tables};

async fn migrated() -> (TestDataApi, Db) {
    let api = TestDataApi::with_schema().await.unwrap();
    let db = api.db();
    (api, db)
}

async fn drift_lines(db: &Db) -> Vec<String> {
    check(db, &tables::schema())
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[tokio::test]
async fn committed_migrations_match_the_mappings() {
    let (_api, db) = migrated().await;
    assert_eq!(drift_lines(&db).await, Vec::<String>::new());
}

#[tokio::test]
async fn migrations_go_down_to_nothing_and_up_to_the_same_schema() {
    let api = TestDataApi::start().await.unwrap();
    let db = api.db();
    let migrations = migrations().unwrap();
    migrate::up(&db, &migrations, None).await.unwrap();
    let first = actual(&db).await.unwrap();
    assert_eq!(first.tables.len(), tables::schema().tables.len());

    let report = migrate::down(&db, &migrations, 0, None).await.unwrap();
    assert_eq!(report.current_version, 0);
    assert!(
        actual(&db).await.unwrap().tables.is_empty(),
        "nothing of ours is left but the ledger"
    );
    let ledger = db
        .execute("SELECT count(*) FROM schema_migrations", Vec::new())
        .await
        .unwrap();
    assert_eq!(ledger.first().unwrap().get::<i64>(0).unwrap(), 0);

    migrate::up(&db, &migrations, None).await.unwrap();
    assert_eq!(actual(&db).await.unwrap(), first);
    assert_eq!(drift_lines(&db).await, Vec::<String>::new());
}

/// Applies `alteration` to a migrated database and returns what the check reports.
async fn drift_after(alteration: &[&str]) -> Vec<String> {
    let (_api, db) = migrated().await;
    for sql in alteration {
        db.execute(sql, Vec::new()).await.unwrap();
    }
    drift_lines(&db).await
}

#[tokio::test]
async fn the_check_reports_a_missing_column() {
    assert_eq!(
        drift_after(&["ALTER TABLE accounts DROP COLUMN closed_at"]).await,
        ["column accounts.closed_at: mappings say closed_at timestamp with time zone, database has none"]
    );
}

#[tokio::test]
async fn the_check_reports_a_changed_type() {
    assert_eq!(
        drift_after(&["ALTER TABLE transactions ALTER COLUMN import_id TYPE varchar(50)"]).await,
        ["column transactions.import_id type: mappings say text, database has character varying(50)"]
    );
}

#[tokio::test]
async fn the_check_reports_changed_nullability() {
    assert_eq!(
        drift_after(&["ALTER TABLE accounts ALTER COLUMN note SET NOT NULL"]).await,
        ["column accounts.note nullability: mappings say NULL, database has NOT NULL"]
    );
}

#[tokio::test]
async fn the_check_reports_a_changed_default() {
    assert_eq!(
        drift_after(&["ALTER TABLE accounts ALTER COLUMN on_budget SET DEFAULT false"]).await,
        ["column accounts.on_budget default: mappings say true, database has false"]
    );
}

#[tokio::test]
async fn the_check_reports_a_renamed_constraint() {
    assert_eq!(
        drift_after(&[
            "ALTER TABLE accounts RENAME CONSTRAINT uq_accounts_household_id_name TO accounts_name_key"
        ])
        .await,
        [
            "constraint uq_accounts_household_id_name on accounts: mappings say UNIQUE (household_id, name), database has none",
            "constraint accounts_name_key on accounts: mappings say none, database has UNIQUE (household_id, name)",
        ]
    );
}

#[tokio::test]
async fn the_check_reports_a_missing_index() {
    assert_eq!(
        drift_after(&["DROP INDEX ix_transactions_household_id_date"]).await,
        [
            "index ix_transactions_household_id_date on transactions: mappings say (household_id, date), database has none"
        ]
    );
}

#[tokio::test]
async fn the_check_reports_a_changed_foreign_key_action() {
    assert_eq!(
        drift_after(&[
            "ALTER TABLE accounts DROP CONSTRAINT fk_accounts_household_id_households",
            "ALTER TABLE accounts ADD CONSTRAINT fk_accounts_household_id_households \
             FOREIGN KEY (household_id) REFERENCES households (id) ON DELETE RESTRICT",
        ])
        .await,
        [
            "constraint fk_accounts_household_id_households on accounts: mappings say FOREIGN KEY (household_id) \
             REFERENCES households (id) ON DELETE CASCADE, database has FOREIGN KEY (household_id) REFERENCES \
             households (id) ON DELETE RESTRICT"
        ]
    );
}

#[tokio::test]
async fn the_check_reports_a_changed_check_and_an_unexpected_table() {
    assert_eq!(
        drift_after(&[
            "ALTER TABLE accounts DROP CONSTRAINT ck_accounts_note_length",
            "ALTER TABLE accounts ADD CONSTRAINT ck_accounts_note_length CHECK (char_length(note) <= 2000)",
            "CREATE TABLE stray (id int)",
        ])
        .await,
        [
            "constraint ck_accounts_note_length on accounts: mappings say CHECK (char_length(note) <= 1000), \
             database has CHECK (char_length(note) <= 2000)",
            "table stray: mappings say none, database has it",
        ]
    );
}

#[tokio::test]
async fn the_check_reports_missing_changed_and_unexpected_triggers_and_functions() {
    assert_eq!(
        drift_after(&[
            "DROP TRIGGER tg_payees_record_tombstone ON payees",
            "DROP TRIGGER tg_accounts_stamp_knowledge ON accounts",
            "CREATE TRIGGER tg_accounts_stamp_knowledge BEFORE INSERT ON accounts \
             FOR EACH ROW EXECUTE FUNCTION stamp_knowledge()",
            "CREATE OR REPLACE FUNCTION record_tombstone() RETURNS trigger LANGUAGE plpgsql \
             AS $$ BEGIN RETURN OLD; END $$",
            "CREATE FUNCTION stray() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
        ])
        .await,
        [
            "function record_tombstone(): the database's body differs from the mappings'",
            "function stray(): mappings say none, database has it",
            "trigger tg_accounts_stamp_knowledge on accounts: mappings say BEFORE INSERT OR UPDATE stamp_knowledge(), \
             database has BEFORE INSERT stamp_knowledge()",
            "trigger tg_payees_record_tombstone on payees: mappings say AFTER DELETE record_tombstone(), database has none",
        ]
    );
}

#[test]
fn generated_sql_is_deterministic() {
    let first = render::migration_file(&render::create_statements(&tables::schema()));
    let second = render::migration_file(&render::create_statements(&tables::schema()));
    assert_eq!(first, second);
}

#[tokio::test]
async fn the_newest_migration_is_what_generate_writes() {
    // Applying every migration but the newest, then generating, gives the newest again: it was
    // generated from the mappings and not edited by hand (0001 alone: the full create script).
    let committed = migrations().unwrap();
    let (newest, earlier) = committed.split_last().unwrap();
    if earlier.is_empty() {
        assert_eq!(
            newest.up,
            render::migration_file(&render::create_statements(&tables::schema()))
        );
        return;
    }
    let api = TestDataApi::start().await.unwrap();
    migrate::up(&api.db(), earlier, None).await.unwrap();
    let differences = shared::schema::check::check(&api.db(), &tables::schema())
        .await
        .unwrap();
    let sql = shared::schema::diff::migration(&differences, true).unwrap();
    assert_eq!(
        newest.up,
        render::migration_file(&sql.up),
        "{} was edited by hand",
        newest.name
    );
    assert_eq!(newest.down, render::migration_file(&sql.down));
}

#[test]
fn constraint_and_index_names_follow_the_convention() {
    for table in tables::schema().tables {
        for constraint in &table.constraints {
            let expected_prefix = match &constraint.kind {
                ConstraintKind::PrimaryKey { .. } => format!("pk_{}", table.name),
                ConstraintKind::Unique { columns } => format!("uq_{}_{}", table.name, columns.join("_")),
                ConstraintKind::Check { .. } => format!("ck_{}_", table.name),
                ConstraintKind::ForeignKey(fk) => {
                    let column = fk.columns.last().unwrap();
                    format!("fk_{}_{column}_{}", table.name, fk.referred_table)
                }
            };
            assert!(
                constraint.name.starts_with(&expected_prefix),
                "{} on {}",
                constraint.name,
                table.name
            );
            assert!(
                constraint.name.len() <= MAX_IDENTIFIER_LEN,
                "{} is too long",
                constraint.name
            );
        }
        for index in &table.indexes {
            assert_eq!(
                index.name,
                format!("ix_{}_{}", table.name, index.columns.join("_"))
            );
            assert!(
                index.name.len() <= MAX_IDENTIFIER_LEN,
                "{} is too long",
                index.name
            );
        }
    }
}

#[test]
fn every_foreign_key_is_backed_by_an_index_and_every_tenant_reference_carries_the_household() {
    for table in tables::schema().tables {
        let mut leading: Vec<Vec<String>> = table.indexes.iter().map(|i| i.columns.clone()).collect();
        leading.extend(table.constraints.iter().filter_map(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns } => {
                Some(columns.clone())
            }
            _ => None,
        }));
        let tenant = table.column("household_id").is_some();
        for constraint in &table.constraints {
            let ConstraintKind::ForeignKey(fk) = &constraint.kind else {
                continue;
            };
            let covered = leading.iter().any(|columns| {
                columns.len() >= fk.columns.len() && {
                    let mut prefix = columns[..fk.columns.len()].to_vec();
                    let mut wanted = fk.columns.clone();
                    prefix.sort();
                    wanted.sort();
                    prefix == wanted
                }
            });
            assert!(covered, "{} on {} has no index", constraint.name, table.name);
            if tenant && fk.referred_table != "households" {
                assert_eq!(
                    fk.columns[0], "household_id",
                    "{} can cross households",
                    constraint.name
                );
            }
        }
    }
}

#[tokio::test]
async fn the_schema_refuses_a_reference_into_another_household() {
    let (_api, db) = migrated().await;
    let statements = [
        "INSERT INTO households (id, name) VALUES ('0190a5e6-0000-7000-8000-000000000001', 'A'), \
                                                  ('0190a5e6-0000-7000-8000-000000000002', 'B')",
        "INSERT INTO users (id, household_id, email, password_hash, display_name, role) VALUES \
         ('0190a5e6-0000-7000-8000-0000000000a1', '0190a5e6-0000-7000-8000-000000000001', 'a@x.io', 'h', 'A', 'owner')",
        "INSERT INTO accounts (id, household_id, name, kind) VALUES \
         ('0190a5e6-0000-7000-8000-0000000000b2', '0190a5e6-0000-7000-8000-000000000002', 'B checking', 'checking')",
    ];
    for sql in statements {
        db.execute(sql, Vec::new()).await.unwrap();
    }
    let crossing = db
        .execute(
            "INSERT INTO transactions (id, household_id, account_id, date, amount, created_by) VALUES \
             ('0190a5e6-0000-7000-8000-0000000000c1', '0190a5e6-0000-7000-8000-000000000001', \
              '0190a5e6-0000-7000-8000-0000000000b2', '2024-01-01', -1000, '0190a5e6-0000-7000-8000-0000000000a1')",
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(crossing.sql_state(), Some("23503"), "{crossing}");
}

#[tokio::test]
async fn a_generated_migration_applies_undoes_and_leaves_no_drift() {
    let (_api, db) = migrated().await;
    let original = tables::schema();
    let mut changed = original.clone();
    let accounts = changed.tables.iter_mut().find(|t| t.name == "accounts").unwrap();
    accounts.columns.push(Column {
        name: "color".into(),
        sql_type: "text".into(),
        nullable: false,
        default: Some("'blue'".into()),
    });
    accounts.indexes.push(Index {
        name: "ix_accounts_household_id_color".into(),
        columns: vec!["household_id".into(), "color".into()],
        unique: false,
        predicate: None,
    });
    accounts
        .constraints
        .retain(|c| c.name != "ck_accounts_note_length");

    let differences = check(&db, &changed).await.unwrap();
    assert_eq!(differences.len(), 3, "{differences:?}");
    let sql = diff::migration(&differences, false).unwrap();
    for statement in &sql.up {
        db.execute(statement, Vec::new()).await.unwrap();
    }
    assert!(
        check(&db, &changed).await.unwrap().is_empty(),
        "up reaches the new mappings"
    );
    for statement in &sql.down {
        db.execute(statement, Vec::new()).await.unwrap();
    }
    assert!(
        check(&db, &original).await.unwrap().is_empty(),
        "down returns to the old ones"
    );
}

#[tokio::test]
async fn a_migration_that_drops_data_needs_allow_drop() {
    let (_api, db) = migrated().await;
    let mut changed = tables::schema();
    changed.tables.retain(|t| t.name != "budget_allocations");
    let differences = check(&db, &changed).await.unwrap();
    assert!(
        matches!(differences.as_slice(), [Difference::UnexpectedTable(t)] if t.name == "budget_allocations")
    );
    let refused = diff::migration(&differences, false).unwrap_err();
    assert!(refused.to_string().contains("--allow-drop"));
    let allowed = diff::migration(&differences, true).unwrap();
    assert_eq!(allowed.up, ["DROP TABLE budget_allocations"]);
    assert!(allowed.down[0].starts_with("CREATE TABLE budget_allocations"));
}
