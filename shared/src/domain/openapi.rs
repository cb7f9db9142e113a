//! How the domain values appear in the OpenAPI document: ids as UUIDs, money as integer
//! milliunits, months as `YYYY-MM`, the closed sets as string enums, names and emails with the
//! limits their `parse` enforces. Each is a named schema, so generated clients get one type per id.

use std::borrow::Cow;

use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

use super::{
    AccountId, AccountKind, BudgetAllocationId, CategoryGroupId, CategoryId, Cleared, CurrencyCode, Email,
    Frequency, HouseholdId, InvitationId, Milliunits, Month, Name, PayeeId, RefreshTokenId, Role,
    ScheduledLineId, ScheduledTransactionId, SqlEnum, TimeZone, TokenFamilyId, Total, TransactionId, UserId,
};

/// A string schema with a description.
fn text(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

macro_rules! inline_schema {
    ($($name:ident => $schema:expr;)*) => {$(
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

/// A UUIDv7, the only kind of id the service makes and accepts.
fn id(of: &str) -> ObjectBuilder {
    text(&format!("The id of {of}: a UUIDv7."))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .examples([json!("0193a5b2-7c4e-7d1a-9f00-3c5e8a2b4d61")])
}

/// One of [`SqlEnum::VALUES`].
fn one_of<E: SqlEnum>(description: &str) -> ObjectBuilder {
    text(description).enum_values(Some(E::VALUES.iter().copied()))
}

inline_schema! {
    HouseholdId => id("a household");
    UserId => id("a user");
    RefreshTokenId => id("a refresh token");
    TokenFamilyId => id("a refresh token family");
    InvitationId => id("an invitation");
    AccountId => id("an account");
    CategoryGroupId => id("a category group");
    CategoryId => id("a category");
    PayeeId => id("a payee");
    TransactionId => id("a transaction");
    ScheduledTransactionId => id("a scheduled transaction");
    ScheduledLineId => id("a line of a split scheduled transaction");
    BudgetAllocationId => id("a budget allocation");
    Milliunits => ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .description(Some("Money in milliunits of the household's currency (1.000 = 1000); never a float."))
        .examples([json!(-42_500)]);
    Total => ObjectBuilder::new()
        .schema_type(Type::Integer)
        .description(Some(
            "A sum of milliunits (a balance, a month's figure): exact and never capped; it exceeds 64 bits \
             only in a household with millions of transactions at the largest amounts.",
        ))
        .examples([json!(1_457_500)]);
    Month => text("A month, YYYY-MM.")
        .pattern(Some(r"^[0-9]{4}-(0[1-9]|1[0-2])$"))
        .examples([json!("2026-11")]);
    Name => text("A name, 1 to 100 characters.")
        .min_length(Some(1))
        .max_length(Some(100))
        .examples([json!("Groceries")]);
    Email => text("An email address (stored in lower case).")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(254))
        .examples([json!("ada@example.com")]);
    CurrencyCode => text("An ISO 4217 currency code.")
        .pattern(Some("^[A-Z]{3}$"))
        .examples([json!("USD")]);
    Role => one_of::<Role>("A member's role in the household.");
    AccountKind => one_of::<AccountKind>("What kind of account it is.");
    Cleared => one_of::<Cleared>("Whether the bank has seen the transaction.");
    Frequency => one_of::<Frequency>("How often a scheduled transaction repeats (YNAB's values).");
    TimeZone => text("An IANA time zone name; it decides what today is for the household's schedules.")
        .max_length(Some(64))
        .examples([json!("Europe/Berlin")]);
}
