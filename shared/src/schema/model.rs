//! A database schema as plain data: tables, columns, constraints, indexes, and the triggers and
//! trigger functions that keep derived columns (sync stamps, tombstones) in the same statement as
//! the write.
//!
//! Both sides of the drift check are this type: the table mappings ([`super::tables`]) and what a
//! database holds ([`super::introspect`]). Constraint and index names are never typed by hand: the
//! [`TableBuilder`] derives them from the convention `pk_{table}`, `fk_{table}_{column}_{referred}`,
//! `uq_{table}_{columns}`, `ix_{table}_{columns}`, `ck_{table}_{name}`.

use std::fmt;

use crate::db::SqlColumn;
use crate::domain::SqlEnum;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    pub tables: Vec<Table>,
    /// Trigger functions (`RETURNS trigger LANGUAGE plpgsql`), created before any table.
    pub functions: Vec<Function>,
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    pub indexes: Vec<Index>,
    pub triggers: Vec<Trigger>,
}

/// A PL/pgSQL trigger function: `CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    /// The body between the dollar quotes, exactly as written (PostgreSQL keeps it verbatim).
    pub body: String,
}

/// A row trigger, named `tg_{table}_{function}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub name: String,
    /// When it fires, as `CREATE TRIGGER` takes it: `BEFORE INSERT OR UPDATE OF a, b`.
    pub timing: String,
    pub function: String,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// As PostgreSQL's `format_type` writes it: `uuid`, `text`, `bigint`, `timestamp with time zone`.
    pub sql_type: String,
    pub nullable: bool,
    /// The default expression, if any.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    PrimaryKey {
        columns: Vec<String>,
    },
    Unique {
        columns: Vec<String>,
    },
    ForeignKey(ForeignKey),
    /// The boolean expression, without the `CHECK` keyword.
    Check {
        expression: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub referred_table: String,
    pub referred_columns: Vec<String>,
    pub on_delete: Action,
    pub on_update: Action,
}

/// What a foreign key does when the referred row is deleted or its key updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Refuse, checked at the end of the statement, so a cascade that removes both rows at once
    /// (deleting a household) still succeeds. This is the "restrict" of this schema.
    NoAction,
    /// Refuse immediately, even if the same statement would remove the referencing row too.
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl Action {
    pub fn sql(self) -> &'static str {
        match self {
            Self::NoAction => "NO ACTION",
            Self::Restrict => "RESTRICT",
            Self::Cascade => "CASCADE",
            Self::SetNull => "SET NULL",
            Self::SetDefault => "SET DEFAULT",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// The `WHERE` of a partial index.
    pub predicate: Option<String>,
}

impl fmt::Display for ConstraintKind {
    /// The constraint's definition as it appears after `CONSTRAINT name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PrimaryKey { columns } => write!(f, "PRIMARY KEY ({})", columns.join(", ")),
            Self::Unique { columns } => write!(f, "UNIQUE ({})", columns.join(", ")),
            Self::Check { expression } => write!(f, "CHECK ({expression})"),
            Self::ForeignKey(fk) => {
                write!(
                    f,
                    "FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}",
                    fk.columns.join(", "),
                    fk.referred_table,
                    fk.referred_columns.join(", "),
                    fk.on_delete.sql()
                )?;
                if fk.on_update != Action::NoAction {
                    write!(f, " ON UPDATE {}", fk.on_update.sql())?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Index {
    /// The index's definition after its name: `[UNIQUE] (cols)[ WHERE …]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unique {
            f.write_str("UNIQUE ")?;
        }
        write!(f, "({})", self.columns.join(", "))?;
        if let Some(predicate) = &self.predicate {
            write!(f, " WHERE {predicate}")?;
        }
        Ok(())
    }
}

/// PostgreSQL truncates longer identifiers silently, which would look like drift.
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// Builds a [`Table`], deriving every constraint and index name from the convention.
pub struct TableBuilder {
    table: Table,
}

/// The tenant column every household-owned table carries.
pub const HOUSEHOLD_ID: &str = "household_id";

impl TableBuilder {
    pub fn new(name: &str) -> Self {
        Self {
            table: Table {
                name: name.to_owned(),
                columns: Vec::new(),
                constraints: Vec::new(),
                indexes: Vec::new(),
                triggers: Vec::new(),
            },
        }
    }

    fn push_constraint(mut self, name: String, kind: ConstraintKind) -> Self {
        self.table.constraints.push(Constraint { name, kind });
        self
    }

    /// `id` of the id type `T`, the primary key `pk_{table}`.
    pub fn id<T: SqlColumn>(self) -> Self {
        let name = format!("pk_{}", self.table.name);
        self.column::<T>("id").push_constraint(
            name,
            ConstraintKind::PrimaryKey {
                columns: vec!["id".into()],
            },
        )
    }

    /// A column whose SQL type and nullability come from the Rust type that holds it.
    pub fn column<T: SqlColumn>(mut self, name: &str) -> Self {
        self.table.columns.push(Column {
            name: name.to_owned(),
            sql_type: T::SQL_TYPE.to_owned(),
            nullable: T::NULLABLE,
            default: None,
        });
        self
    }

    /// Gives the column added last a default expression.
    pub fn default(mut self, expression: &str) -> Self {
        if let Some(column) = self.table.columns.last_mut() {
            column.default = Some(expression.to_owned());
        }
        self
    }

    /// A text column holding enum `E`, with `ck_{table}_{column}` listing its values.
    pub fn enum_column<E: SqlEnum>(self, name: &str) -> Self {
        let values: Vec<String> = E::VALUES.iter().map(|v| format!("'{v}'")).collect();
        let expression = format!("{name} IN ({})", values.join(", "));
        self.column::<String>(name).check(name, &expression)
    }

    /// `created_at` and `updated_at`, both `timestamptz NOT NULL DEFAULT now()`.
    pub fn timestamps(self) -> Self {
        self.created_at()
            .column::<chrono::DateTime<chrono::Utc>>("updated_at")
            .default("now()")
    }

    pub fn created_at(self) -> Self {
        self.column::<chrono::DateTime<chrono::Utc>>("created_at")
            .default("now()")
    }

    /// `household_id`, referencing `households (id)` with `ON DELETE CASCADE`: removing a
    /// household removes everything it owns.
    pub fn tenant<T: SqlColumn>(self) -> Self {
        self.column::<T>(HOUSEHOLD_ID)
            .references(HOUSEHOLD_ID, "households", Action::Cascade)
    }

    /// `uq_{table}_household_id_id`: what other tenant rows reference, so that a reference carries
    /// the household and cannot cross into another one.
    pub fn referable_within_household(self) -> Self {
        self.unique(&[HOUSEHOLD_ID, "id"])
    }

    /// A single-column foreign key to `referred_table (id)`.
    pub fn references(self, column: &str, referred_table: &str, on_delete: Action) -> Self {
        let name = format!("fk_{}_{column}_{referred_table}", self.table.name);
        self.push_constraint(
            name,
            ConstraintKind::ForeignKey(ForeignKey {
                columns: vec![column.to_owned()],
                referred_table: referred_table.to_owned(),
                referred_columns: vec!["id".to_owned()],
                on_delete,
                on_update: Action::NoAction,
            }),
        )
    }

    /// A foreign key `(household_id, column)` to `referred_table (household_id, id)`: the referred
    /// row must belong to the same household. A NULL `column` references nothing.
    pub fn references_in_household(self, column: &str, referred_table: &str, on_delete: Action) -> Self {
        let name = format!("fk_{}_{column}_{referred_table}", self.table.name);
        self.push_constraint(
            name,
            ConstraintKind::ForeignKey(ForeignKey {
                columns: vec![HOUSEHOLD_ID.to_owned(), column.to_owned()],
                referred_table: referred_table.to_owned(),
                referred_columns: vec![HOUSEHOLD_ID.to_owned(), "id".to_owned()],
                on_delete,
                on_update: Action::NoAction,
            }),
        )
    }

    pub fn unique(self, columns: &[&str]) -> Self {
        let name = format!("uq_{}_{}", self.table.name, columns.join("_"));
        self.push_constraint(
            name,
            ConstraintKind::Unique {
                columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            },
        )
    }

    pub fn check(self, name: &str, expression: &str) -> Self {
        let name = format!("ck_{}_{name}", self.table.name);
        self.push_constraint(
            name,
            ConstraintKind::Check {
                expression: expression.to_owned(),
            },
        )
    }

    pub fn index(mut self, columns: &[&str]) -> Self {
        self.table.indexes.push(Index {
            name: format!("ix_{}_{}", self.table.name, columns.join("_")),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            unique: false,
            predicate: None,
        });
        self
    }

    /// A row trigger on this table calling trigger function `function` at `timing`.
    pub fn trigger(mut self, timing: &str, function: &str) -> Self {
        self.table.triggers.push(Trigger {
            name: format!("tg_{}_{function}", self.table.name),
            timing: timing.to_owned(),
            function: function.to_owned(),
        });
        self
    }

    pub fn build(self) -> Table {
        self.table
    }
}
