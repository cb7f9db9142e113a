//! Delta sync in the schema: the triggers that stamp every write to a synced table with its
//! household's raised `server_knowledge` and keep a tombstone of every delete, in the same
//! statement as the write, and the `tombstones` table. See docs/sync.md.

use chrono::{DateTime, Utc};

use super::model::{Function, HOUSEHOLD_ID, Table, TableBuilder};
use crate::domain::{HouseholdId, TombstoneId};

/// The tables whose changes delta sync reports (see `tombstones.kind`).
pub const SYNCED_TABLES: &[&str] = &[
    "users",
    "household_invitations",
    "accounts",
    "category_groups",
    "categories",
    "payees",
    "transactions",
    "budget_allocations",
];

pub(super) const STAMP_KNOWLEDGE: &str = "stamp_knowledge";
pub(super) const RECORD_TOMBSTONE: &str = "record_tombstone";
pub(super) const TOUCH_ACCOUNTS: &str = "touch_accounts";
pub(super) const TOUCH_CATEGORY_GROUPS: &str = "touch_category_groups";

/// Raises the household's server knowledge once per transaction (a write statement is one) and
/// stamps the row being written with it: a bulk write of many rows gets one number, and the
/// household row one new version, not one per row. The household row stays locked until the write
/// commits, so knowledge numbers become visible in the order they were given out, and a delta read
/// never skips a change that commits later.
pub(super) fn stamp_knowledge() -> Function {
    Function {
        name: STAMP_KNOWLEDGE.to_owned(),
        body: "
DECLARE
    this_transaction bigint := pg_current_xact_id()::text::bigint;
BEGIN
    UPDATE households SET server_knowledge = server_knowledge + 1, knowledge_transaction = this_transaction
    WHERE id = NEW.household_id AND knowledge_transaction IS DISTINCT FROM this_transaction
    RETURNING server_knowledge INTO NEW.knowledge;
    IF NOT FOUND THEN
        SELECT server_knowledge INTO NEW.knowledge FROM households WHERE id = NEW.household_id;
    END IF;
    RETURN NEW;
END
"
        .to_owned(),
    }
}

/// Keeps the id of a deleted row with the household's knowledge, raised as in
/// [`stamp_knowledge`]. Nothing is kept when the household itself is being deleted (its row is
/// gone by then).
pub(super) fn record_tombstone() -> Function {
    Function {
        name: RECORD_TOMBSTONE.to_owned(),
        body: "
DECLARE
    this_transaction bigint := pg_current_xact_id()::text::bigint;
    stamped bigint;
BEGIN
    UPDATE households SET server_knowledge = server_knowledge + 1, knowledge_transaction = this_transaction
    WHERE id = OLD.household_id AND knowledge_transaction IS DISTINCT FROM this_transaction
    RETURNING server_knowledge INTO stamped;
    IF NOT FOUND THEN
        SELECT server_knowledge INTO stamped FROM households WHERE id = OLD.household_id;
    END IF;
    IF stamped IS NOT NULL THEN
        INSERT INTO tombstones (id, household_id, kind, knowledge)
        VALUES (OLD.id, OLD.household_id, TG_TABLE_NAME, stamped)
        ON CONFLICT (id) DO UPDATE SET knowledge = EXCLUDED.knowledge;
    END IF;
    RETURN OLD;
END
"
        .to_owned(),
    }
}

/// `knowledge` (the household's server knowledge at the row's last change; 0 for rows older than
/// delta sync), its index for delta reads, and the two triggers.
pub(super) fn synced_when(table: TableBuilder, stamp_timing: &str) -> TableBuilder {
    table
        .column::<i64>("knowledge")
        .default("0")
        .index(&[HOUSEHOLD_ID, "knowledge"])
        .trigger(stamp_timing, STAMP_KNOWLEDGE)
        .trigger("AFTER DELETE", RECORD_TOMBSTONE)
}

/// An account's balances are derived from its transactions: a change to a transaction's money
/// stamps the accounts it was and is in, so a delta read returns them with their new balances.
/// (Split lines share their parent's account and amount, so only parents count.)
pub(super) fn touch_accounts() -> Function {
    Function {
        name: TOUCH_ACCOUNTS.to_owned(),
        body: "
DECLARE
    known bigint;
BEGIN
    SELECT server_knowledge INTO known FROM households WHERE id = COALESCE(NEW.household_id, OLD.household_id);
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.parent_id IS NULL THEN
        UPDATE accounts SET knowledge = knowledge WHERE id = OLD.account_id AND knowledge < known;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.parent_id IS NULL THEN
        UPDATE accounts SET knowledge = knowledge WHERE id = NEW.account_id AND knowledge < known;
    END IF;
    RETURN NULL;
END
"
        .to_owned(),
    }
}

/// A delta read returns a category group whole (with all its categories) when anything in it
/// changed: a category written, added, moved out or deleted stamps the groups it was and is in.
pub(super) fn touch_category_groups() -> Function {
    Function {
        name: TOUCH_CATEGORY_GROUPS.to_owned(),
        body: "
DECLARE
    known bigint;
BEGIN
    SELECT server_knowledge INTO known FROM households WHERE id = COALESCE(NEW.household_id, OLD.household_id);
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE category_groups SET knowledge = knowledge WHERE id = OLD.category_group_id AND knowledge < known;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE category_groups SET knowledge = knowledge WHERE id = NEW.category_group_id AND knowledge < known;
    END IF;
    RETURN NULL;
END
"
        .to_owned(),
    }
}

/// The ids of deleted rows of the synced tables, for delta reads (`kind` is the table).
pub(super) fn tombstones() -> Table {
    let kinds: Vec<String> = SYNCED_TABLES.iter().map(|t| format!("'{t}'")).collect();
    TableBuilder::new("tombstones")
        .id::<TombstoneId>()
        .tenant::<HouseholdId>()
        .column::<String>("kind")
        .check("kind", &format!("kind IN ({})", kinds.join(", ")))
        .column::<i64>("knowledge")
        .index(&["household_id", "kind", "knowledge"])
        .column::<DateTime<Utc>>("deleted_at")
        .default("now()")
        .build()
}
