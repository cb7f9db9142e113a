//! The table mappings: the single source of truth for the schema.
//!
//! Migrations are generated from these (`cargo xtask schema generate`), and the drift check
//! (`cargo xtask schema check`, and a test) proves the committed migrations produce exactly this.
//! Change a table here, then generate a migration; never edit a migration by hand.
//!
//! Tenant isolation lives in the schema: every household-owned table has `household_id`, and a
//! reference to another household-owned row is a composite foreign key on `(household_id, id)`, so a
//! row can only point at rows of its own household.
//!
//! Deletion rules, chosen per reference:
//! - from `households`: `CASCADE` (removing a household removes all it owns);
//! - where money would vanish (accounts, payees, categories, budget allocations, transfers,
//!   authors of transactions): `NO ACTION`, which refuses the delete unless the same statement also
//!   removes the referencing rows (as the household cascade does);
//! - owned details (split lines under their parent, a user's refresh tokens, a transfer payee with
//!   its account, invitations by a removed member): `CASCADE`;
//! - a rotated refresh token's successor: `SET NULL`.
//!
//! Delta sync lives in the schema too: every synced table has `knowledge`, stamped by a trigger
//! with the household's raised `server_knowledge` in the same statement as the write, and a
//! delete leaves a row in `tombstones` (also by trigger), so no write can forget either.
//!
//! Tables are listed parents first; migrations create them in this order and drop them in reverse.

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{Action, Schema, Table, TableBuilder};
use super::sync::{
    TOUCH_ACCOUNTS, TOUCH_CATEGORY_GROUPS, record_tombstone, stamp_knowledge, synced_when, tombstones,
    touch_accounts, touch_category_groups,
};

pub use super::sync::SYNCED_TABLES;
use crate::domain::{
    AccountId, AccountKind, BudgetAllocationId, CategoryGroupId, CategoryId, Cleared, CurrencyCode, Email,
    Frequency, HouseholdId, IdempotencyRecordId, InvitationId, Milliunits, Month, Name, PayeeId,
    RefreshTokenId, Role, ScheduledLineId, ScheduledTransactionId, TimeZone, TokenFamilyId, TransactionId,
    UserId,
};

type Timestamp = DateTime<Utc>;

/// Every table this service owns.
pub fn schema() -> Schema {
    Schema {
        tables: vec![
            households(),
            users(),
            refresh_tokens(),
            login_throttles(),
            household_invitations(),
            accounts(),
            category_groups(),
            categories(),
            payees(),
            scheduled_transactions(),
            scheduled_lines(),
            transactions(),
            budget_allocations(),
            idempotency_keys(),
            idempotency_answers(),
            tombstones(),
        ],
        functions: vec![
            stamp_knowledge(),
            record_tombstone(),
            touch_accounts(),
            touch_category_groups(),
        ],
    }
}

/// Tables the migration engine owns; the drift check leaves them out.
pub const ENGINE_TABLES: &[&str] = &["schema_migrations"];

trait Columns {
    fn name_column(self) -> Self;
    fn synced(self) -> Self;
    fn synced_on(self, columns: &[&str]) -> Self;
}

impl Columns for TableBuilder {
    /// Stamped on every insert and update, tombstoned on delete.
    fn synced(self) -> Self {
        synced_when(self, "BEFORE INSERT OR UPDATE")
    }

    /// Stamped on insert and on updates of `columns` only (a user's failed logins are not news).
    fn synced_on(self, columns: &[&str]) -> Self {
        synced_when(
            self,
            &format!("BEFORE INSERT OR UPDATE OF {}", columns.join(", ")),
        )
    }

    /// `name`, 1–100 characters, as [`Name`] parses it.
    fn name_column(self) -> Self {
        self.column::<Name>("name")
            .check("name_length", "char_length(name) BETWEEN 1 AND 100")
    }
}

fn households() -> Table {
    TableBuilder::new("households")
        .id::<HouseholdId>()
        .name_column()
        .column::<CurrencyCode>("currency_code")
        .default("'USD'")
        .check("currency_code", "currency_code ~ '^[A-Z]{3}$'")
        .column::<i64>("server_knowledge")
        .default("0")
        .check("server_knowledge", "server_knowledge >= 0")
        // The transaction that last raised server_knowledge (see schema::sync::stamp_knowledge).
        .column::<Option<i64>>("knowledge_transaction")
        .timestamps()
        // Decides what "today" is for the household's schedules.
        .column::<TimeZone>("time_zone")
        .default("'UTC'")
        .check("time_zone_length", "char_length(time_zone) BETWEEN 1 AND 64")
        .build()
}

/// Members, and former members: one who left or was removed, but recorded transactions, is kept as
/// a record with their name only (`left_at`, a placeholder email under the reserved `.invalid`
/// domain, no password, never an owner), so their transactions still say who recorded them while
/// their account is gone. The email stays NOT NULL so that the release before stays correct.
fn users() -> Table {
    TableBuilder::new("users")
        .id::<UserId>()
        .tenant::<HouseholdId>()
        .column::<Email>("email")
        .unique(&["email"])
        .check(
            "email_lower_case",
            "email = lower(email) AND char_length(email) <= 254",
        )
        .column::<String>("password_hash")
        .column::<Name>("display_name")
        .check(
            "display_name_length",
            "char_length(display_name) BETWEEN 1 AND 100",
        )
        .enum_column::<Role>("role")
        // The per-account lockout of the release before migration 0005, which its login still
        // reads during a deploy; nothing reads them since (login_throttles). Drop in a later
        // migration.
        .column::<i32>("failed_login_count")
        .default("0")
        .check("failed_login_count", "failed_login_count >= 0")
        .column::<Option<Timestamp>>("locked_until")
        .column::<Option<Timestamp>>("left_at")
        .check(
            "former_member",
            "left_at IS NULL OR (role = 'member' AND password_hash = '' \
             AND email = id::text || '@former-member.invalid')",
        )
        .timestamps()
        .synced_on(&["email", "display_name", "role"])
        .referable_within_household()
        .build()
}

fn refresh_tokens() -> Table {
    TableBuilder::new("refresh_tokens")
        .id::<RefreshTokenId>()
        .column::<UserId>("user_id")
        .references("user_id", "users", Action::Cascade)
        .index(&["user_id"])
        .column::<TokenFamilyId>("family_id")
        .index(&["family_id"])
        .column::<Vec<u8>>("token_hash")
        .unique(&["token_hash"])
        .column::<Timestamp>("expires_at")
        // The session's absolute end, copied to every rotation (auth::SESSION_TTL after login).
        .column::<Timestamp>("session_expires_at")
        .default("now() + interval '90 days'")
        .column::<Option<Timestamp>>("revoked_at")
        .column::<Option<RefreshTokenId>>("replaced_by")
        .references("replaced_by", "refresh_tokens", Action::SetNull)
        .index(&["replaced_by"])
        .created_at()
        .build()
}

/// Failed logins counted per account and source address, and per source address (see
/// `functions::auth::login`): `id` is the SHA-256 of what is counted, so neither emails nor
/// addresses are kept in clear. A row carries the limit it was counted against.
fn login_throttles() -> Table {
    TableBuilder::new("login_throttles")
        .id::<Vec<u8>>()
        .column::<i32>("max_failures")
        .check("max_failures", "max_failures > 0")
        .column::<i32>("failures")
        .check("failures", "failures >= 0")
        .column::<Timestamp>("window_started_at")
        .column::<Option<Timestamp>>("locked_until")
        .timestamps()
        .index(&["updated_at"])
        .build()
}

fn household_invitations() -> Table {
    TableBuilder::new("household_invitations")
        .id::<InvitationId>()
        .tenant::<HouseholdId>()
        .column::<Email>("email")
        .check("email_lower_case", "email = lower(email)")
        .enum_column::<Role>("role")
        .column::<Vec<u8>>("token_hash")
        .unique(&["token_hash"])
        .column::<UserId>("invited_by")
        .references_in_household("invited_by", "users", Action::Cascade)
        .index(&["household_id", "invited_by"])
        .column::<Timestamp>("expires_at")
        .column::<Option<Timestamp>>("accepted_at")
        .timestamps()
        .synced()
        .build()
}

fn accounts() -> Table {
    TableBuilder::new("accounts")
        .id::<AccountId>()
        .tenant::<HouseholdId>()
        .name_column()
        .unique(&["household_id", "name"])
        .enum_column::<AccountKind>("kind")
        .column::<bool>("on_budget")
        .default("true")
        .column::<Option<Timestamp>>("closed_at")
        .column::<Option<String>>("note")
        .check("note_length", "char_length(note) <= 1000")
        .timestamps()
        .referable_within_household()
        .synced()
        .build()
}

fn category_groups() -> Table {
    TableBuilder::new("category_groups")
        .id::<CategoryGroupId>()
        .tenant::<HouseholdId>()
        .name_column()
        .unique(&["household_id", "name"])
        .column::<i32>("sort_order")
        .default("0")
        .index(&["household_id", "sort_order"])
        .column::<bool>("hidden")
        .default("false")
        .timestamps()
        .referable_within_household()
        .synced()
        .build()
}

fn categories() -> Table {
    TableBuilder::new("categories")
        .id::<CategoryId>()
        .tenant::<HouseholdId>()
        .column::<CategoryGroupId>("category_group_id")
        .references_in_household("category_group_id", "category_groups", Action::NoAction)
        .index(&["household_id", "category_group_id", "sort_order"])
        .name_column()
        .unique(&["category_group_id", "name"])
        .column::<i32>("sort_order")
        .default("0")
        .column::<bool>("hidden")
        .default("false")
        .column::<Option<String>>("note")
        .check("note_length", "char_length(note) <= 1000")
        .timestamps()
        .referable_within_household()
        .trigger("AFTER INSERT OR UPDATE OR DELETE", TOUCH_CATEGORY_GROUPS)
        .synced()
        .build()
}

fn payees() -> Table {
    TableBuilder::new("payees")
        .id::<PayeeId>()
        .tenant::<HouseholdId>()
        .name_column()
        .unique(&["household_id", "name"])
        .column::<Option<AccountId>>("transfer_account_id")
        .references_in_household("transfer_account_id", "accounts", Action::Cascade)
        .index(&["household_id", "transfer_account_id"])
        .timestamps()
        .referable_within_household()
        .synced()
        .build()
}

fn transactions() -> Table {
    TableBuilder::new("transactions")
        .id::<TransactionId>()
        .tenant::<HouseholdId>()
        .column::<AccountId>("account_id")
        .references_in_household("account_id", "accounts", Action::NoAction)
        .index(&["household_id", "account_id", "date"])
        .column::<NaiveDate>("date")
        .index(&["household_id", "date"])
        .column::<Milliunits>("amount")
        .column::<Option<PayeeId>>("payee_id")
        .references_in_household("payee_id", "payees", Action::NoAction)
        .index(&["household_id", "payee_id"])
        .column::<Option<CategoryId>>("category_id")
        .references_in_household("category_id", "categories", Action::NoAction)
        .index(&["household_id", "category_id"])
        .column::<Option<String>>("memo")
        .check("memo_length", "char_length(memo) <= 500")
        .enum_column::<Cleared>("cleared")
        .default("'uncleared'")
        .column::<bool>("approved")
        .default("false")
        .column::<Option<String>>("import_id")
        .unique(&["account_id", "import_id"])
        .column::<Option<TransactionId>>("transfer_transaction_id")
        .references_in_household("transfer_transaction_id", "transactions", Action::NoAction)
        .index(&["household_id", "transfer_transaction_id"])
        .column::<Option<TransactionId>>("parent_id")
        .references_in_household("parent_id", "transactions", Action::Cascade)
        .index(&["household_id", "parent_id"])
        .column::<UserId>("created_by")
        .references_in_household("created_by", "users", Action::NoAction)
        .index(&["household_id", "created_by"])
        .column::<Option<Timestamp>>("deleted_at")
        .timestamps()
        // The schedule that made it, and for which of its dates: one transaction per date, however
        // often the scheduler runs.
        .column::<Option<ScheduledTransactionId>>("scheduled_transaction_id")
        .references_in_household(
            "scheduled_transaction_id",
            "scheduled_transactions",
            Action::NoAction,
        )
        .index(&["household_id", "scheduled_transaction_id"])
        .column::<Option<NaiveDate>>("scheduled_date")
        .unique(&["scheduled_transaction_id", "scheduled_date"])
        .referable_within_household()
        .trigger(
            "AFTER INSERT OR UPDATE OF account_id, amount, cleared, deleted_at OR DELETE",
            TOUCH_ACCOUNTS,
        )
        .synced()
        .build()
}

/// A transaction that repeats (see `domain::schedule`). `next_occurrence` counts its dates from
/// `date_first`; `date_next` is that occurrence's date, NULL once the schedule has ended. Deleting
/// is soft, as for transactions, which keep pointing at the schedule that made them.
fn scheduled_transactions() -> Table {
    TableBuilder::new("scheduled_transactions")
        .id::<ScheduledTransactionId>()
        .tenant::<HouseholdId>()
        .column::<AccountId>("account_id")
        .references_in_household("account_id", "accounts", Action::NoAction)
        .index(&["household_id", "account_id"])
        .column::<NaiveDate>("date_first")
        .enum_column::<Frequency>("frequency")
        .column::<i32>("next_occurrence")
        .default("0")
        .check("next_occurrence", "next_occurrence >= 0")
        .column::<Option<NaiveDate>>("date_next")
        .index(&["date_next"])
        .column::<Option<NaiveDate>>("end_date")
        .column::<Option<i32>>("end_count")
        .check("one_end", "end_date IS NULL OR end_count IS NULL")
        .check("end_count", "end_count >= 1")
        .column::<Milliunits>("amount")
        .column::<Option<PayeeId>>("payee_id")
        .references_in_household("payee_id", "payees", Action::NoAction)
        .index(&["household_id", "payee_id"])
        .column::<Option<CategoryId>>("category_id")
        .references_in_household("category_id", "categories", Action::NoAction)
        .index(&["household_id", "category_id"])
        .column::<Option<String>>("memo")
        .check("memo_length", "char_length(memo) <= 500")
        .column::<Option<AccountId>>("transfer_account_id")
        .references_in_household("transfer_account_id", "accounts", Action::NoAction)
        .index(&["household_id", "transfer_account_id"])
        .column::<UserId>("created_by")
        .references_in_household("created_by", "users", Action::NoAction)
        .index(&["household_id", "created_by"])
        .column::<Option<Timestamp>>("deleted_at")
        .timestamps()
        .referable_within_household()
        .synced()
        .build()
}

/// The lines of a split schedule, in the order sent. Not synced on their own: writing them moves
/// their schedule's version, and a schedule is always read with its lines.
fn scheduled_lines() -> Table {
    TableBuilder::new("scheduled_lines")
        .id::<ScheduledLineId>()
        .tenant::<HouseholdId>()
        .column::<ScheduledTransactionId>("schedule_id")
        .references_in_household("schedule_id", "scheduled_transactions", Action::Cascade)
        .index(&["household_id", "schedule_id"])
        .column::<i32>("position")
        .column::<Milliunits>("amount")
        .column::<Option<CategoryId>>("category_id")
        .references_in_household("category_id", "categories", Action::NoAction)
        .index(&["household_id", "category_id"])
        .column::<Option<PayeeId>>("payee_id")
        .references_in_household("payee_id", "payees", Action::NoAction)
        .index(&["household_id", "payee_id"])
        .column::<Option<String>>("memo")
        .check("memo_length", "char_length(memo) <= 500")
        .created_at()
        .build()
}

fn budget_allocations() -> Table {
    TableBuilder::new("budget_allocations")
        .id::<BudgetAllocationId>()
        .tenant::<HouseholdId>()
        .column::<CategoryId>("category_id")
        .references_in_household("category_id", "categories", Action::NoAction)
        .index(&["household_id", "category_id"])
        .column::<Month>("month")
        .check("month_first_day", "month = date_trunc('month', month)::date")
        .index(&["household_id", "month"])
        .unique(&["category_id", "month"])
        .column::<Milliunits>("assigned")
        .default("0")
        .timestamps()
        .synced()
        .build()
}

/// A request made with an `Idempotency-Key`, claimed in the same statement as its write, and
/// its answer once it has one (`status` is NULL while the request runs). Kept 24 hours.
///
/// A key belongs to the member who sent it (`user_id`, with the `role` they had then): its answer
/// is repeated only to them, only while they still have that role, and another member's request
/// with the same key is refused. Rows from before migration 0005 have neither and are never
/// repeated. Keys stay unique per household, not per member: the release before 0005 claims with
/// `ON CONFLICT (household_id, key)`, and must keep working while a deploy updates the functions.
fn idempotency_keys() -> Table {
    TableBuilder::new("idempotency_keys")
        .id::<IdempotencyRecordId>()
        .tenant::<HouseholdId>()
        .column::<Option<UserId>>("user_id")
        .references_in_household("user_id", "users", Action::Cascade)
        .index(&["household_id", "user_id"])
        .column::<Option<String>>("role")
        .check("role", "role IN ('owner', 'member')")
        .column::<String>("key")
        .unique(&["household_id", "key"])
        .check("key_visible_ascii", "key ~ '^[!-~]{1,255}$'")
        .column::<String>("fingerprint")
        .column::<Option<i32>>("status")
        .column::<Option<String>>("content_type")
        .column::<Option<String>>("etag")
        .column::<Option<String>>("body")
        .created_at()
        .column::<Timestamp>("expires_at")
        .index(&["household_id", "expires_at"])
        .build()
}

/// The answer of a keyed write, kept by the statement that claimed the key and wrote (`id` is
/// the claim's `idempotency_keys.id`): its result rows as a JSON array of records, which a repeat
/// of the request answers again in one statement. Kept as long as its key; the claim that takes
/// over an expired key gets a new id, so an old answer is never read for a new request.
///
/// `idempotency_keys.status` and `body` hold answers the release before 0006 kept; they are read
/// only for those and can go in a later release.
fn idempotency_answers() -> Table {
    TableBuilder::new("idempotency_answers")
        .id::<IdempotencyRecordId>()
        .tenant::<HouseholdId>()
        .column::<String>("records")
        .column::<Timestamp>("expires_at")
        .index(&["household_id", "expires_at"])
        .build()
}
