//! Compares two schemas — what the mappings say and what a database has — one difference per
//! line. [`super::plan`] turns them into the SQL that moves the database to the mappings (and back).
//!
//! Both sides must be in PostgreSQL's canonical spelling (see [`super::check`]), so that
//! `'USD'` and `'USD'::text` do not count as a difference.

use std::fmt;

pub use super::plan::{DropsData, MigrationSql, migration};

use super::model::{Column, Constraint, Function, Index, Schema, Table, Trigger};
use super::render::column_definition;

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
    compare_named(
        &expected.functions,
        &actual.functions,
        |f| &f.name,
        &mut out,
        |f| Difference::MissingFunction(f.clone()),
        |e, a| Difference::ChangedFunction {
            expected: e.clone(),
            actual: a.clone(),
        },
        |f| Difference::UnexpectedFunction(f.clone()),
    );
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
    let table = &expected.name;
    compare_named(
        &expected.constraints,
        &actual.constraints,
        |c| &c.name,
        out,
        |c| Difference::MissingConstraint {
            table: table.clone(),
            constraint: c.clone(),
        },
        |e, a| Difference::ChangedConstraint {
            table: table.clone(),
            expected: e.clone(),
            actual: a.clone(),
        },
        |c| Difference::UnexpectedConstraint {
            table: table.clone(),
            constraint: c.clone(),
        },
    );
    compare_named(
        &expected.indexes,
        &actual.indexes,
        |i| &i.name,
        out,
        |i| Difference::MissingIndex {
            table: table.clone(),
            index: i.clone(),
        },
        |e, a| Difference::ChangedIndex {
            table: table.clone(),
            expected: e.clone(),
            actual: a.clone(),
        },
        |i| Difference::UnexpectedIndex {
            table: table.clone(),
            index: i.clone(),
        },
    );
    compare_named(
        &expected.triggers,
        &actual.triggers,
        |t| &t.name,
        out,
        |t| Difference::MissingTrigger {
            table: table.clone(),
            trigger: t.clone(),
        },
        |e, a| Difference::ChangedTrigger {
            table: table.clone(),
            expected: e.clone(),
            actual: a.clone(),
        },
        |t| Difference::UnexpectedTrigger {
            table: table.clone(),
            trigger: t.clone(),
        },
    );
}

/// Pairs named items by name: in `expected` only (missing), in both but different (changed), in
/// `actual` only (unexpected); in `expected`'s order, then `actual`'s.
fn compare_named<T: PartialEq>(
    expected: &[T],
    actual: &[T],
    name: impl Fn(&T) -> &String,
    out: &mut Vec<Difference>,
    missing: impl Fn(&T) -> Difference,
    changed: impl Fn(&T, &T) -> Difference,
    unexpected: impl Fn(&T) -> Difference,
) {
    for e in expected {
        match actual.iter().find(|a| name(a) == name(e)) {
            None => out.push(missing(e)),
            Some(a) if a != e => out.push(changed(e, a)),
            Some(_) => {}
        }
    }
    for a in actual
        .iter()
        .filter(|a| !expected.iter().any(|e| name(e) == name(a)))
    {
        out.push(unexpected(a));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::TableBuilder;

    fn notes(extra: impl FnOnce(TableBuilder) -> TableBuilder) -> Table {
        extra(
            TableBuilder::new("notes")
                .id::<crate::domain::HouseholdId>()
                .column::<String>("body"),
        )
        .build()
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            functions: Vec::new(),
        }
    }

    #[test]
    fn the_mappings_match_themselves() {
        let mappings = crate::schema::tables::schema();
        assert_eq!(diff(&mappings, &mappings), Vec::new());
    }

    #[test]
    fn a_table_on_one_side_only_is_missing_or_unexpected_in_name_order() {
        let other = TableBuilder::new("a_first")
            .id::<crate::domain::HouseholdId>()
            .build();
        let found = diff(&schema(vec![notes(|t| t)]), &schema(vec![other.clone()]));
        assert_eq!(
            found,
            vec![
                Difference::UnexpectedTable(other),
                Difference::MissingTable(notes(|t| t))
            ]
        );
    }

    #[test]
    fn missing_tables_are_created_after_the_missing_tables_they_refer_to() {
        let parent = TableBuilder::new("b_parent")
            .id::<crate::domain::HouseholdId>()
            .build();
        let child = TableBuilder::new("a_child")
            .id::<crate::domain::UserId>()
            .column::<crate::domain::HouseholdId>("parent_id")
            .references("parent_id", "b_parent", crate::schema::model::Action::Cascade)
            .build();
        let found = diff(&schema(vec![child, parent]), &schema(Vec::new()));
        let plan = crate::schema::plan::migration(&found, false).expect("nothing dropped");
        let created = |name: &str| {
            plan.up
                .iter()
                .position(|s| s.starts_with(&format!("CREATE TABLE {name} ")))
                .expect("created")
        };
        assert!(created("b_parent") < created("a_child"), "{:#?}", plan.up);
        let dropped = |name: &str| plan.down.iter().position(|s| s.contains(name)).expect("dropped");
        assert!(dropped("a_child") < dropped("b_parent"), "{:#?}", plan.down);
    }

    #[test]
    fn each_column_difference_is_one_line() {
        let expected = notes(|t| {
            t.column::<i64>("pinned")
                .default("0")
                .column::<Option<String>>("tag")
        });
        let actual = notes(|t| t.column::<Option<i32>>("pinned").column::<String>("old"));
        let lines: Vec<String> = diff(&schema(vec![expected]), &schema(vec![actual]))
            .iter()
            .map(ToString::to_string)
            .collect();
        let expected_lines = [
            "notes.pinned",
            "notes.pinned",
            "notes.pinned",
            "column notes.tag: mappings say",
            "column notes.old: mappings say none",
        ];
        assert_eq!(lines.len(), expected_lines.len(), "{lines:#?}");
        for (line, start) in lines.iter().zip(expected_lines) {
            assert!(line.contains(start), "{line} should name {start}");
        }
    }

    #[test]
    fn a_constraint_of_the_same_name_that_changed_is_one_difference() {
        let expected = notes(|t| t.check("body", "char_length(body) < 10"));
        let actual = notes(|t| t.check("body", "char_length(body) < 20"));
        let found = diff(&schema(vec![expected]), &schema(vec![actual]));
        assert!(
            matches!(found.as_slice(), [Difference::ChangedConstraint { table, .. }] if table == "notes"),
            "{found:?}"
        );
    }

    #[test]
    fn a_new_column_migrates_up_and_back_down() {
        let found = diff(
            &schema(vec![notes(|t| t.column::<Option<String>>("tag"))]),
            &schema(vec![notes(|t| t)]),
        );
        let sql = migration(&found, false).expect("adding a column drops nothing");
        assert_eq!(sql.up.len(), 1, "{:?}", sql.up);
        assert!(sql.up[0].contains("ADD COLUMN tag text"), "{}", sql.up[0]);
        assert_eq!(sql.down.len(), 1, "{:?}", sql.down);
        assert!(sql.down[0].contains("DROP COLUMN tag"), "{}", sql.down[0]);
    }

    #[test]
    fn dropping_a_column_or_table_needs_permission() {
        let found = diff(&schema(Vec::new()), &schema(vec![notes(|t| t)]));
        let refused = migration(&found, false).expect_err("a dropped table loses its rows");
        assert!(refused.0.iter().any(|what| what.contains("notes")), "{refused}");
        assert!(migration(&found, true).is_ok());
    }
}
