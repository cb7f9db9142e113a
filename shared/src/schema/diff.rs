//! Compares two schemas — what the mappings say and what a database has — one difference per
//! line, and turns the differences into the SQL that moves the database to the mappings (and back).
//!
//! Both sides must be in PostgreSQL's canonical spelling (see [`super::check`]), so that
//! `'USD'` and `'USD'::text` do not count as a difference.

use std::fmt;

use super::model::{Column, Constraint, Function, Index, Schema, Table, Trigger};
use super::render::{
    column_definition, create_function, create_index, create_table_whole, create_trigger, drop_function,
    drop_trigger,
};

/// One way the database differs from the mappings. `expected` is the mappings' side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    MissingTable(Table),
    UnexpectedTable(Table),
    MissingColumn {
        table: String,
        column: Column,
    },
    UnexpectedColumn {
        table: String,
        column: Column,
    },
    ColumnType {
        table: String,
        column: String,
        expected: String,
        actual: String,
    },
    Nullability {
        table: String,
        column: String,
        expected: bool,
        actual: bool,
    },
    Default {
        table: String,
        column: String,
        expected: Option<String>,
        actual: Option<String>,
    },
    MissingConstraint {
        table: String,
        constraint: Constraint,
    },
    UnexpectedConstraint {
        table: String,
        constraint: Constraint,
    },
    ChangedConstraint {
        table: String,
        expected: Constraint,
        actual: Constraint,
    },
    MissingIndex {
        table: String,
        index: Index,
    },
    UnexpectedIndex {
        table: String,
        index: Index,
    },
    ChangedIndex {
        table: String,
        expected: Index,
        actual: Index,
    },
    MissingTrigger {
        table: String,
        trigger: Trigger,
    },
    UnexpectedTrigger {
        table: String,
        trigger: Trigger,
    },
    ChangedTrigger {
        table: String,
        expected: Trigger,
        actual: Trigger,
    },
    MissingFunction(Function),
    UnexpectedFunction(Function),
    ChangedFunction {
        expected: Function,
        actual: Function,
    },
}

/// Every difference between `expected` (the mappings) and `actual` (the database), in a stable
/// order: trigger functions, then tables by name, each with its columns, constraints, indexes and
/// triggers.
pub fn diff(expected: &Schema, actual: &Schema) -> Vec<Difference> {
    let mut out = Vec::new();
    for e in &expected.functions {
        match actual.functions.iter().find(|a| a.name == e.name) {
            None => out.push(Difference::MissingFunction(e.clone())),
            Some(a) if a != e => out.push(Difference::ChangedFunction {
                expected: e.clone(),
                actual: a.clone(),
            }),
            Some(_) => {}
        }
    }
    for a in &actual.functions {
        if !expected.functions.iter().any(|e| e.name == a.name) {
            out.push(Difference::UnexpectedFunction(a.clone()));
        }
    }
    let mut names: Vec<&str> = expected
        .tables
        .iter()
        .chain(&actual.tables)
        .map(|t| t.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        match (expected.table(name), actual.table(name)) {
            (Some(e), None) => out.push(Difference::MissingTable(e.clone())),
            (None, Some(a)) => out.push(Difference::UnexpectedTable(a.clone())),
            (Some(e), Some(a)) => diff_table(e, a, &mut out),
            (None, None) => {}
        }
    }
    out
}

fn diff_table(expected: &Table, actual: &Table, out: &mut Vec<Difference>) {
    let table = || expected.name.clone();
    for e in &expected.columns {
        let Some(a) = actual.column(&e.name) else {
            out.push(Difference::MissingColumn {
                table: table(),
                column: e.clone(),
            });
            continue;
        };
        if e.sql_type != a.sql_type {
            out.push(Difference::ColumnType {
                table: table(),
                column: e.name.clone(),
                expected: e.sql_type.clone(),
                actual: a.sql_type.clone(),
            });
        }
        if e.nullable != a.nullable {
            out.push(Difference::Nullability {
                table: table(),
                column: e.name.clone(),
                expected: e.nullable,
                actual: a.nullable,
            });
        }
        if e.default != a.default {
            out.push(Difference::Default {
                table: table(),
                column: e.name.clone(),
                expected: e.default.clone(),
                actual: a.default.clone(),
            });
        }
    }
    for a in actual
        .columns
        .iter()
        .filter(|a| expected.column(&a.name).is_none())
    {
        out.push(Difference::UnexpectedColumn {
            table: table(),
            column: a.clone(),
        });
    }
    for e in &expected.constraints {
        match actual.constraints.iter().find(|a| a.name == e.name) {
            None => out.push(Difference::MissingConstraint {
                table: table(),
                constraint: e.clone(),
            }),
            Some(a) if a.kind != e.kind => out.push(Difference::ChangedConstraint {
                table: table(),
                expected: e.clone(),
                actual: a.clone(),
            }),
            Some(_) => {}
        }
    }
    for a in actual
        .constraints
        .iter()
        .filter(|a| !expected.constraints.iter().any(|e| e.name == a.name))
    {
        out.push(Difference::UnexpectedConstraint {
            table: table(),
            constraint: a.clone(),
        });
    }
    for e in &expected.indexes {
        match actual.indexes.iter().find(|a| a.name == e.name) {
            None => out.push(Difference::MissingIndex {
                table: table(),
                index: e.clone(),
            }),
            Some(a) if a != e => out.push(Difference::ChangedIndex {
                table: table(),
                expected: e.clone(),
                actual: a.clone(),
            }),
            Some(_) => {}
        }
    }
    for a in actual
        .indexes
        .iter()
        .filter(|a| !expected.indexes.iter().any(|e| e.name == a.name))
    {
        out.push(Difference::UnexpectedIndex {
            table: table(),
            index: a.clone(),
        });
    }
    for e in &expected.triggers {
        match actual.triggers.iter().find(|a| a.name == e.name) {
            None => out.push(Difference::MissingTrigger {
                table: table(),
                trigger: e.clone(),
            }),
            Some(a) if a != e => out.push(Difference::ChangedTrigger {
                table: table(),
                expected: e.clone(),
                actual: a.clone(),
            }),
            Some(_) => {}
        }
    }
    for a in actual
        .triggers
        .iter()
        .filter(|a| !expected.triggers.iter().any(|e| e.name == a.name))
    {
        out.push(Difference::UnexpectedTrigger {
            table: table(),
            trigger: a.clone(),
        });
    }
}

/// `timing function()`, as a difference line shows a trigger.
fn trigger_text(trigger: &Trigger) -> String {
    format!("{} {}()", trigger.timing, trigger.function)
}

fn nullability(nullable: bool) -> &'static str {
    if nullable { "NULL" } else { "NOT NULL" }
}

fn default_text(default: &Option<String>) -> &str {
    default.as_deref().unwrap_or("no default")
}

impl fmt::Display for Difference {
    /// `<what>: mappings say <x>, database has <y>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingTable(t) => write!(f, "table {}: mappings say present, database has none", t.name),
            Self::UnexpectedTable(t) => write!(f, "table {}: mappings say none, database has it", t.name),
            Self::MissingColumn { table, column } => write!(
                f,
                "column {table}.{}: mappings say {}, database has none",
                column.name,
                column_definition(column)
            ),
            Self::UnexpectedColumn { table, column } => write!(
                f,
                "column {table}.{}: mappings say none, database has {}",
                column.name,
                column_definition(column)
            ),
            Self::ColumnType {
                table,
                column,
                expected,
                actual,
            } => {
                write!(
                    f,
                    "column {table}.{column} type: mappings say {expected}, database has {actual}"
                )
            }
            Self::Nullability {
                table,
                column,
                expected,
                actual,
            } => write!(
                f,
                "column {table}.{column} nullability: mappings say {}, database has {}",
                nullability(*expected),
                nullability(*actual)
            ),
            Self::Default {
                table,
                column,
                expected,
                actual,
            } => write!(
                f,
                "column {table}.{column} default: mappings say {}, database has {}",
                default_text(expected),
                default_text(actual)
            ),
            Self::MissingConstraint { table, constraint } => write!(
                f,
                "constraint {} on {table}: mappings say {}, database has none",
                constraint.name, constraint.kind
            ),
            Self::UnexpectedConstraint { table, constraint } => write!(
                f,
                "constraint {} on {table}: mappings say none, database has {}",
                constraint.name, constraint.kind
            ),
            Self::ChangedConstraint {
                table,
                expected,
                actual,
            } => write!(
                f,
                "constraint {} on {table}: mappings say {}, database has {}",
                expected.name, expected.kind, actual.kind
            ),
            Self::MissingIndex { table, index } => {
                write!(
                    f,
                    "index {} on {table}: mappings say {index}, database has none",
                    index.name
                )
            }
            Self::UnexpectedIndex { table, index } => {
                write!(
                    f,
                    "index {} on {table}: mappings say none, database has {index}",
                    index.name
                )
            }
            Self::ChangedIndex {
                table,
                expected,
                actual,
            } => {
                write!(
                    f,
                    "index {} on {table}: mappings say {expected}, database has {actual}",
                    expected.name
                )
            }
            Self::MissingTrigger { table, trigger } => write!(
                f,
                "trigger {} on {table}: mappings say {}, database has none",
                trigger.name,
                trigger_text(trigger)
            ),
            Self::UnexpectedTrigger { table, trigger } => write!(
                f,
                "trigger {} on {table}: mappings say none, database has {}",
                trigger.name,
                trigger_text(trigger)
            ),
            Self::ChangedTrigger {
                table,
                expected,
                actual,
            } => write!(
                f,
                "trigger {} on {table}: mappings say {}, database has {}",
                expected.name,
                trigger_text(expected),
                trigger_text(actual)
            ),
            Self::MissingFunction(function) => {
                write!(
                    f,
                    "function {}(): mappings say present, database has none",
                    function.name
                )
            }
            Self::UnexpectedFunction(function) => {
                write!(
                    f,
                    "function {}(): mappings say none, database has it",
                    function.name
                )
            }
            Self::ChangedFunction { expected, .. } => write!(
                f,
                "function {}(): the database's body differs from the mappings'",
                expected.name
            ),
        }
    }
}

/// The statements of a migration that resolves a set of differences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationSql {
    pub up: Vec<String>,
    pub down: Vec<String>,
}

/// Why a migration was not generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("these changes drop data and need --allow-drop:\n  {}", .0.join("\n  "))]
pub struct DropsData(pub Vec<String>);

/// Turns differences into up and down statements. Up runs in phases so that every statement finds
/// what it needs: drop triggers, constraints and indexes that change, create or replace trigger
/// functions, create tables, add and alter columns, add constraints, indexes and triggers, then
/// drop columns, tables and functions. Down undoes each step in reverse order.
///
/// # Errors
/// [`DropsData`] when a table or column would be dropped and `allow_drop` is false.
pub fn migration(differences: &[Difference], allow_drop: bool) -> Result<MigrationSql, DropsData> {
    let drops: Vec<String> = differences
        .iter()
        .filter(|d| {
            matches!(
                d,
                Difference::UnexpectedTable(_) | Difference::UnexpectedColumn { .. }
            )
        })
        .map(ToString::to_string)
        .collect();
    if !drops.is_empty() && !allow_drop {
        return Err(DropsData(drops));
    }
    let mut steps = Steps::default();
    for difference in differences {
        match difference {
            Difference::ChangedConstraint {
                table,
                expected,
                actual,
            } => {
                steps.one(
                    1,
                    drop_constraint(table, &actual.name),
                    add_constraint(table, actual),
                );
                steps.one(
                    6,
                    add_constraint(table, expected),
                    drop_constraint(table, &expected.name),
                );
            }
            Difference::UnexpectedConstraint { table, constraint } => {
                steps.one(
                    1,
                    drop_constraint(table, &constraint.name),
                    add_constraint(table, constraint),
                );
            }
            Difference::ChangedIndex {
                table,
                expected,
                actual,
            } => {
                steps.one(1, drop_index(&actual.name), create_index(table, actual));
                steps.one(7, create_index(table, expected), drop_index(&expected.name));
            }
            Difference::UnexpectedIndex { table, index } => {
                steps.one(1, drop_index(&index.name), create_index(table, index));
            }
            Difference::MissingTable(t) => steps.many(3, create_table_whole(t), vec![drop_table(t)]),
            Difference::MissingColumn { table, column } => steps.one(
                4,
                format!("ALTER TABLE {table} ADD COLUMN {}", column_definition(column)),
                format!("ALTER TABLE {table} DROP COLUMN {}", column.name),
            ),
            Difference::ColumnType {
                table,
                column,
                expected,
                actual,
            } => steps.one(
                5,
                alter_type(table, column, expected),
                alter_type(table, column, actual),
            ),
            Difference::Nullability {
                table,
                column,
                expected,
                actual,
            } => steps.one(
                5,
                set_nullability(table, column, *expected),
                set_nullability(table, column, *actual),
            ),
            Difference::Default {
                table,
                column,
                expected,
                actual,
            } => steps.one(
                5,
                set_default(table, column, expected),
                set_default(table, column, actual),
            ),
            Difference::MissingConstraint { table, constraint } => steps.one(
                6,
                add_constraint(table, constraint),
                drop_constraint(table, &constraint.name),
            ),
            Difference::MissingIndex { table, index } => {
                steps.one(7, create_index(table, index), drop_index(&index.name))
            }
            Difference::UnexpectedColumn { table, column } => steps.one(
                9,
                format!("ALTER TABLE {table} DROP COLUMN {}", column.name),
                format!("ALTER TABLE {table} ADD COLUMN {}", column_definition(column)),
            ),
            Difference::ChangedTrigger {
                table,
                expected,
                actual,
            } => {
                steps.one(
                    0,
                    drop_trigger(table, &actual.name),
                    create_trigger(table, actual),
                );
                steps.one(
                    8,
                    create_trigger(table, expected),
                    drop_trigger(table, &expected.name),
                );
            }
            Difference::UnexpectedTrigger { table, trigger } => {
                steps.one(
                    0,
                    drop_trigger(table, &trigger.name),
                    create_trigger(table, trigger),
                );
            }
            Difference::MissingTrigger { table, trigger } => {
                steps.one(
                    8,
                    create_trigger(table, trigger),
                    drop_trigger(table, &trigger.name),
                );
            }
            Difference::MissingFunction(function) => {
                steps.one(2, create_function(function), drop_function(&function.name));
            }
            Difference::ChangedFunction { expected, actual } => {
                steps.one(2, create_function(expected), create_function(actual));
            }
            Difference::UnexpectedFunction(function) => {
                steps.one(11, drop_function(&function.name), create_function(function));
            }
            Difference::UnexpectedTable(t) => steps.many(10, vec![drop_table(t)], create_table_whole(t)),
        }
    }
    Ok(steps.into_migration())
}

/// Migration steps: (phase, up statements, down statements). Up runs the steps by phase (stably);
/// down runs them in exactly the reverse order, each step's own statements in their given order.
#[derive(Default)]
struct Steps(Vec<(u8, Vec<String>, Vec<String>)>);

impl Steps {
    fn one(&mut self, phase: u8, up: String, down: String) {
        self.0.push((phase, vec![up], vec![down]));
    }

    fn many(&mut self, phase: u8, up: Vec<String>, down: Vec<String>) {
        self.0.push((phase, up, down));
    }

    fn into_migration(mut self) -> MigrationSql {
        self.0.sort_by_key(|(phase, ..)| *phase);
        let up = self.0.iter().flat_map(|(_, up, _)| up.iter().cloned()).collect();
        let down = self
            .0
            .iter()
            .rev()
            .flat_map(|(_, _, down)| down.iter().cloned())
            .collect();
        MigrationSql { up, down }
    }
}

fn drop_table(table: &Table) -> String {
    format!("DROP TABLE {}", table.name)
}

fn add_constraint(table: &str, constraint: &Constraint) -> String {
    format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} {}",
        constraint.name, constraint.kind
    )
}

fn drop_constraint(table: &str, name: &str) -> String {
    format!("ALTER TABLE {table} DROP CONSTRAINT {name}")
}

fn drop_index(name: &str) -> String {
    format!("DROP INDEX {name}")
}

fn alter_type(table: &str, column: &str, sql_type: &str) -> String {
    format!("ALTER TABLE {table} ALTER COLUMN {column} TYPE {sql_type} USING {column}::{sql_type}")
}

fn set_nullability(table: &str, column: &str, nullable: bool) -> String {
    let change = if nullable { "DROP NOT NULL" } else { "SET NOT NULL" };
    format!("ALTER TABLE {table} ALTER COLUMN {column} {change}")
}

fn set_default(table: &str, column: &str, default: &Option<String>) -> String {
    match default {
        Some(expression) => format!("ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {expression}"),
        None => format!("ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT"),
    }
}
