//! Domain values that parse their input and cannot hold an invalid value afterwards.
//!
//! Every type here has one fallible constructor, `parse`, returning [`ParseError`]; request bodies
//! become these types in one place (the handler's input), and the rest of the code never sees an
//! unchecked value. Each type also knows its SQL column type and how it travels through the Data
//! API (see [`crate::db::value`]), like SQLAlchemy's TypeDecorators.

mod enums;
mod ids;
mod money;
mod openapi;
pub mod schedule;
mod text;
mod time;
pub mod transaction_rules;

pub use enums::{AccountKind, Cleared, Role, SqlEnum};
pub use ids::{
    AccountId, BudgetAllocationId, CategoryGroupId, CategoryId, HouseholdId, IdempotencyRecordId,
    InvitationId, NEW_ID_SQL, PayeeId, RefreshTokenId, ScheduledLineId, ScheduledTransactionId,
    TokenFamilyId, TombstoneId, TransactionId, UserId,
};
pub use money::{MAX_AMOUNT, Milliunits, Total, amount};
pub use schedule::Frequency;
pub use text::{CurrencyCode, Email, Name, TimeZone, free_text};
pub use time::{Month, date, in_date_range};

/// Why a value was refused; the message is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("is not a valid token")]
    InvalidToken,
    #[error("must be an email address")]
    InvalidEmail,
    #[error("must be a three-letter ISO 4217 currency code, e.g. USD")]
    InvalidCurrency,
    #[error("must be an IANA time zone name, e.g. Europe/Berlin")]
    InvalidTimeZone,
    #[error("must be a month written YYYY-MM")]
    InvalidMonth,
    #[error("must be an id")]
    InvalidId,
    #[error("must not contain control characters")]
    ControlCharacter,
    #[error("must be one of: {}", allowed.join(", "))]
    NotOneOf { allowed: &'static [&'static str] },
    #[error("is out of range")]
    OutOfRange,
    #[error("must be from -{max} to {max} milliunits (under a trillion units)", max = money::MAX_AMOUNT - 1)]
    AmountOutOfRange,
    #[error("must be a date written YYYY-MM-DD, from 1900-01-01 to 2199-12-31")]
    DateOutOfRange,
}
