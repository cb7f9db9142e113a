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
    "scheduled_transactions",
    "budget_allocations",
];

pub(super) const STAMP_KNOWLEDGE: &str = "stamp_knowledge";
pub(super) const RECORD_TOMBSTONE: &str = "record_tombstone";
pub(super) const TOUCH_ACCOUNTS: &str = "touch_accounts";
pub(super) const TOUCH_CATEGORY_GROUPS: &str = "touch_category_groups";

/// The household's knowledge for the current transaction, into `stamped`: raised once per
/// transaction (the household remembers which one raised it last), then read from a
/// transaction-local setting, so a write of 500 rows costs one raise and 499 lookups of a setting.
/// `$household` is the household's id.
macro_rules! knowledge_of_this_transaction {
    ($household:literal) => {
        concat!(
            "
    IF split_part(cached, ' ', 1) = ",
            $household,
            "::text THEN
        stamped := split_part(cached, ' ', 2)::bigint;
    ELSE
        UPDATE households SET server_knowledge = server_knowledge + 1,
               knowledge_transaction = pg_current_xact_id()::text::bigint
        WHERE id = ",
            $household,
            "
          AND knowledge_transaction IS DISTINCT FROM pg_current_xact_id()::text::bigint
        RETURNING server_knowledge INTO stamped;
        IF NOT FOUND THEN
            SELECT server_knowledge INTO stamped FROM households WHERE id = ",
            $household,
            ";
        END IF;
        IF stamped IS NOT NULL THEN
            PERFORM set_config('budget.knowledge', ",
            $household,
            "::text || ' ' || stamped, true);
        END IF;
    END IF;"
        )
    };
}

/// Raises the household's server knowledge once per write and stamps the row being written with
/// it. The household row stays locked until the write commits, so knowledge numbers become visible
/// in the order they were given out, and a delta read never skips a change that commits later.
pub(super) fn stamp_knowledge() -> Function {
    Function {
        name: STAMP_KNOWLEDGE.to_owned(),
        body: concat!(
            "
DECLARE
    cached text := COALESCE(current_setting('budget.knowledge', true), '');
    stamped bigint;
BEGIN",
            knowledge_of_this_transaction!("NEW.household_id"),
            "
    NEW.knowledge := stamped;
    RETURN NEW;
END
"
        )
        .to_owned(),
    }
}

/// Keeps the id of a deleted row with the household's knowledge, raised as in
/// [`stamp_knowledge`]. Nothing is kept when the household itself is being deleted (its row is
/// gone by then).
pub(super) fn record_tombstone() -> Function {
    Function {
        name: RECORD_TOMBSTONE.to_owned(),
        body: concat!(
            "
DECLARE
    cached text := COALESCE(current_setting('budget.knowledge', true), '');
    stamped bigint;
BEGIN",
            knowledge_of_this_transaction!("OLD.household_id"),
            "
    IF stamped IS NOT NULL THEN
        INSERT INTO tombstones (id, household_id, kind, knowledge)
        VALUES (OLD.id, OLD.household_id, TG_TABLE_NAME, stamped)
        ON CONFLICT (id) DO UPDATE SET knowledge = EXCLUDED.knowledge;
    END IF;
    RETURN OLD;
END
"
        )
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
    touch_parents(
        TOUCH_ACCOUNTS,
        "accounts",
        "account_id",
        " AND OLD.parent_id IS NULL",
        " AND NEW.parent_id IS NULL",
    )
}

/// A delta read returns a category group whole (with all its categories) when anything in it
/// changed: a category written, added, moved out or deleted stamps the groups it was and is in.
pub(super) fn touch_category_groups() -> Function {
    touch_parents(
        TOUCH_CATEGORY_GROUPS,
        "category_groups",
        "category_group_id",
        "",
        "",
    )
}

/// An AFTER trigger function that stamps the `parent_table` rows the written row's `column`
/// named before and after the write (if `old_when` / `new_when` hold), each once per write.
fn touch_parents(name: &str, parent_table: &str, column: &str, old_when: &str, new_when: &str) -> Function {
    Function {
        name: name.to_owned(),
        body: format!(
            "
DECLARE
    touched text := COALESCE(current_setting('budget.touched', true), '');
    parent uuid;
BEGIN
    -- Each parent once per write: the ids touched so far are kept in a transaction-local setting.
    FOREACH parent IN ARRAY ARRAY[
        CASE WHEN TG_OP <> 'INSERT'{old_when} THEN OLD.{column} END,
        CASE WHEN TG_OP <> 'DELETE'{new_when} THEN NEW.{column} END
    ] LOOP
        IF parent IS NOT NULL AND position(parent::text IN touched) = 0 THEN
            UPDATE {parent_table} SET knowledge = knowledge WHERE id = parent;
            touched := touched || parent::text || ' ';
            PERFORM set_config('budget.touched', touched, true);
        END IF;
    END LOOP;
    RETURN NULL;
END
"
        ),
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
