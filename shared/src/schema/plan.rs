//! Turns the differences the drift check finds into a migration: up and down statements, ordered
//! so that every statement finds what it needs.

use super::diff::Difference;
use super::model::{Constraint, ConstraintKind, Table};
use super::render::{
    column_definition, create_function, create_index, create_table_whole, create_trigger, drop_function,
    drop_trigger,
};

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
    for difference in parents_first(differences) {
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

/// `differences` with the missing tables reordered so that each comes after the missing tables its
/// foreign keys refer to: a table is created whole, keys included, so its parents must exist
/// first (the diff lists tables by name). A cycle keeps its order, and PostgreSQL says so.
fn parents_first(differences: &[Difference]) -> Vec<&Difference> {
    let is_missing = |d: &&Difference| matches!(d, Difference::MissingTable(_));
    let missing_names: Vec<&str> = differences
        .iter()
        .filter_map(|d| match d {
            Difference::MissingTable(t) => Some(t.name.as_str()),
            _ => None,
        })
        .collect();
    let mut ordered: Vec<&Difference> = differences.iter().filter(|d| !is_missing(d)).collect();
    let mut pending: Vec<&Difference> = differences.iter().filter(is_missing).collect();
    let mut created: Vec<&str> = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|d| {
            let Difference::MissingTable(table) = d else {
                return false;
            };
            let ready = referred_tables(table).all(|referred| {
                referred == table.name || !missing_names.contains(&referred) || created.contains(&referred)
            });
            if ready {
                ordered.push(d);
                created.push(&table.name);
            }
            !ready
        });
        if pending.len() == before {
            ordered.append(&mut pending);
        }
    }
    ordered
}

/// The tables `table`'s foreign keys refer to.
fn referred_tables(table: &Table) -> impl Iterator<Item = &str> {
    table.constraints.iter().filter_map(|c| match &c.kind {
        ConstraintKind::ForeignKey(key) => Some(key.referred_table.as_str()),
        _ => None,
    })
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
