//! Reads the schema a database actually has, through the Data API, from `pg_catalog`.
//!
//! Everything is read from the current schema (`current_schema()`, normally `public`), so the same
//! queries read a shadow schema when the search path points there (see [`super::check`]). Values
//! come back in PostgreSQL's canonical spelling (`format_type`, `pg_get_expr`,
//! `pg_get_constraintdef`), which is what makes two schemas comparable.

use std::collections::BTreeMap;

use super::model::{
    Action, Column, Constraint, ConstraintKind, ForeignKey, Function, Index, Schema, Table, Trigger,
};
use crate::db::{Db, DbError, DecodeError, Rows, Transaction};

const COLUMNS: &str = "\
SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
       pg_get_expr(d.adbin, d.adrelid) \
FROM pg_class c \
JOIN pg_namespace n ON n.oid = c.relnamespace \
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
ORDER BY c.relname, a.attnum";

const CONSTRAINTS: &str = "\
SELECT c.relname::text, con.conname::text, con.contype::text, \
       pg_get_constraintdef(con.oid, true), \
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord), \
       coalesce(rc.relname::text, ''), \
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord), \
       con.confdeltype::text, con.confupdtype::text \
FROM pg_constraint con \
JOIN pg_class c ON c.oid = con.conrelid \
JOIN pg_namespace n ON n.oid = c.relnamespace \
LEFT JOIN pg_class rc ON rc.oid = con.confrelid \
WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f', 'c') \
ORDER BY c.relname, con.conname";

const INDEXES: &str = "\
SELECT t.relname::text, i.relname::text, x.indisunique, \
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) k ORDER BY k), \
       pg_get_expr(x.indpred, x.indrelid, true) \
FROM pg_index x \
JOIN pg_class i ON i.oid = x.indexrelid \
JOIN pg_class t ON t.oid = x.indrelid \
JOIN pg_namespace n ON n.oid = t.relnamespace \
WHERE n.nspname = current_schema() \
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x')) \
ORDER BY t.relname, i.relname";

// The part of the definition between the name and the table (`BEFORE INSERT OR UPDATE OF a`);
// anything but a row trigger keeps its whole definition, so it shows up as a difference.
const TRIGGERS: &str = "\
SELECT c.relname::text, t.tgname::text, \
       regexp_replace(pg_get_triggerdef(t.oid, true), \
                      '^CREATE TRIGGER \\S+ (.*) ON \\S+ FOR EACH ROW EXECUTE FUNCTION \\S+\\(\\)$', '\\1'), \
       p.proname::text \
FROM pg_trigger t \
JOIN pg_class c ON c.oid = t.tgrelid \
JOIN pg_namespace n ON n.oid = c.relnamespace \
JOIN pg_proc p ON p.oid = t.tgfoid \
WHERE n.nspname = current_schema() AND NOT t.tgisinternal \
ORDER BY c.relname, t.tgname";

// Only trigger functions in PL/pgSQL are mapped; any other function reads as one with a marked
// body, so it shows up as a difference.
const FUNCTIONS: &str = "\
SELECT p.proname::text, \
       CASE WHEN l.lanname = 'plpgsql' AND p.prorettype = 'trigger'::regtype AND p.pronargs = 0 \
            THEN p.prosrc ELSE 'not a trigger function: ' || pg_get_function_result(p.oid) END \
FROM pg_proc p \
JOIN pg_namespace n ON n.oid = p.pronamespace \
JOIN pg_language l ON l.oid = p.prolang \
WHERE n.nspname = current_schema() \
ORDER BY p.proname";

/// Reads the current schema, leaving out the tables named in `ignore`; five Data API calls.
///
/// # Errors
/// [`DbError`] from the Data API.
pub async fn introspect(
    db: &Db,
    transaction: Option<&Transaction>,
    ignore: &[&str],
) -> Result<Schema, DbError> {
    let run = async |sql: &str| -> Result<Rows, DbError> {
        match transaction {
            Some(tx) => db.execute_in(tx, sql, Vec::new()).await,
            None => db.execute(sql, Vec::new()).await,
        }
    };
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();

    for row in run(COLUMNS).await?.iter() {
        if let Some(t) = table(&mut tables, ignore, row.get(0)?) {
            t.columns.push(Column {
                name: row.get(1)?,
                sql_type: row.get(2)?,
                nullable: !row.get::<bool>(3)?,
                default: row.get(4)?,
            });
        }
    }
    for row in run(CONSTRAINTS).await?.iter() {
        if let Some(t) = table(&mut tables, ignore, row.get(0)?) {
            let definition: String = row.get(3)?;
            let columns: Vec<String> = row.get(4)?;
            let kind = match row.get::<String>(2)?.as_str() {
                "p" => ConstraintKind::PrimaryKey { columns },
                "u" => ConstraintKind::Unique { columns },
                "c" => ConstraintKind::Check {
                    expression: check_expression(&definition),
                },
                _ => ConstraintKind::ForeignKey(ForeignKey {
                    columns,
                    referred_table: row.get(5)?,
                    referred_columns: row.get(6)?,
                    on_delete: action(&row.get::<String>(7)?)?,
                    on_update: action(&row.get::<String>(8)?)?,
                }),
            };
            t.constraints.push(Constraint {
                name: row.get(1)?,
                kind,
            });
        }
    }
    for row in run(INDEXES).await?.iter() {
        if let Some(t) = table(&mut tables, ignore, row.get(0)?) {
            t.indexes.push(Index {
                name: row.get(1)?,
                unique: row.get(2)?,
                columns: row.get(3)?,
                predicate: row.get(4)?,
            });
        }
    }
    for row in run(TRIGGERS).await?.iter() {
        if let Some(t) = table(&mut tables, ignore, row.get(0)?) {
            t.triggers.push(Trigger {
                name: row.get(1)?,
                timing: row.get(2)?,
                function: row.get(3)?,
            });
        }
    }
    let mut functions = Vec::new();
    for row in run(FUNCTIONS).await?.iter() {
        functions.push(Function {
            name: row.get(0)?,
            body: row.get(1)?,
        });
    }
    Ok(Schema {
        tables: tables.into_values().collect(),
        functions,
    })
}

/// The table `name` being read, unless it is ignored.
fn table<'a>(
    tables: &'a mut BTreeMap<String, Table>,
    ignore: &[&str],
    name: String,
) -> Option<&'a mut Table> {
    if ignore.contains(&name.as_str()) {
        return None;
    }
    Some(tables.entry(name.clone()).or_insert_with(|| Table {
        name,
        columns: Vec::new(),
        constraints: Vec::new(),
        indexes: Vec::new(),
        triggers: Vec::new(),
    }))
}

/// `CHECK (a > 0)` → `a > 0`. Anything else (say, a trailing `NOT VALID`) is kept whole, so it
/// shows up as a difference.
fn check_expression(definition: &str) -> String {
    definition
        .strip_prefix("CHECK (")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(definition)
        .to_owned()
}

fn action(code: &str) -> Result<Action, DecodeError> {
    Ok(match code {
        "a" => Action::NoAction,
        "r" => Action::Restrict,
        "c" => Action::Cascade,
        "n" => Action::SetNull,
        "d" => Action::SetDefault,
        other => {
            return Err(DecodeError::Malformed(format!(
                "unknown foreign key action {other:?}"
            )));
        }
    })
}
