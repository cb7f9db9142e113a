//! How each Rust value travels through the Data API: its SQL column type ([`SqlColumn`]), how it
//! binds as a parameter (value + type hint, [`ToParam`]) and how it decodes from a result field
//! ([`FromField`]).
//!
//! The type hints matter: the Data API binds an un-hinted string as `varchar`, which PostgreSQL
//! will not compare with a `uuid`, `date` or `timestamptz` column. So ids bind with `UUID`, months
//! and dates with `DATE`, instants with `TIMESTAMP` (in UTC, as the cluster's time zone is UTC).

use aws_sdk_rdsdata::primitives::Blob;
use aws_sdk_rdsdata::types::{Field, TypeHint};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::domain::{
    AccountId, AccountKind, BudgetAllocationId, CategoryGroupId, CategoryId, Cleared, CurrencyCode, Email,
    Frequency, HouseholdId, IdempotencyRecordId, InvitationId, Milliunits, Month, Name, ParseError, PayeeId,
    RefreshTokenId, Role, ScheduledLineId, ScheduledTransactionId, SqlEnum, TimeZone, TokenFamilyId,
    TombstoneId, Total, TransactionId, UserId,
};

/// The column type a value is stored in, as PostgreSQL's `format_type` names it.
pub trait SqlColumn {
    const SQL_TYPE: &'static str;
    const NULLABLE: bool = false;
}

/// A value that binds as a Data API parameter.
pub trait ToParam {
    fn to_field(&self) -> (Field, Option<TypeHint>);
}

/// A value that decodes from a Data API result field.
pub trait FromField: Sized {
    /// # Errors
    /// [`DecodeError`] when the field has another shape or an invalid value.
    fn from_field(field: &Field) -> Result<Self, DecodeError>;
}

/// A result field that does not hold what the code expected: a bug or a schema drift, never the
/// client's fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("expected {expected}, found {found}")]
    Shape { expected: &'static str, found: String },
    #[error("invalid stored value: {0}")]
    Invalid(#[from] ParseError),
    #[error("invalid stored value: {0}")]
    Malformed(String),
    #[error("missing column {0}")]
    MissingColumn(usize),
}

fn shape(expected: &'static str, field: &Field) -> DecodeError {
    let found = match field {
        Field::IsNull(_) => "NULL",
        Field::BooleanValue(_) => "a boolean",
        Field::LongValue(_) => "a long",
        Field::DoubleValue(_) => "a double",
        Field::StringValue(_) => "a string",
        Field::BlobValue(_) => "a blob",
        Field::ArrayValue(_) => "an array",
        _ => "an unknown field",
    };
    DecodeError::Shape {
        expected,
        found: found.to_owned(),
    }
}

fn string(field: &Field) -> Result<&str, DecodeError> {
    match field {
        Field::StringValue(text) => Ok(text),
        other => Err(shape("a string", other)),
    }
}

impl<T: SqlColumn> SqlColumn for Option<T> {
    const SQL_TYPE: &'static str = T::SQL_TYPE;
    const NULLABLE: bool = true;
}

impl<T: ToParam> ToParam for Option<T> {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        match self {
            Some(value) => value.to_field(),
            None => (Field::IsNull(true), None),
        }
    }
}

impl<T: FromField> FromField for Option<T> {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        match field {
            Field::IsNull(true) => Ok(None),
            other => T::from_field(other).map(Some),
        }
    }
}

impl<T: ToParam + ?Sized> ToParam for &T {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        (**self).to_field()
    }
}

macro_rules! uuid_values {
    ($($id:ty),*) => {$(
        impl SqlColumn for $id {
            const SQL_TYPE: &'static str = "uuid";
        }
        impl ToParam for $id {
            fn to_field(&self) -> (Field, Option<TypeHint>) {
                (Field::StringValue(self.to_string()), Some(TypeHint::Uuid))
            }
        }
        impl FromField for $id {
            fn from_field(field: &Field) -> Result<Self, DecodeError> {
                Ok(<$id>::parse(string(field)?)?)
            }
        }
    )*};
}
uuid_values!(
    HouseholdId,
    UserId,
    RefreshTokenId,
    TokenFamilyId,
    InvitationId,
    AccountId,
    CategoryGroupId,
    CategoryId,
    PayeeId,
    TransactionId,
    ScheduledTransactionId,
    ScheduledLineId,
    BudgetAllocationId,
    IdempotencyRecordId,
    TombstoneId
);

macro_rules! text_values {
    ($($ty:ty),*) => {$(
        impl SqlColumn for $ty {
            const SQL_TYPE: &'static str = "text";
        }
        impl ToParam for $ty {
            fn to_field(&self) -> (Field, Option<TypeHint>) {
                (Field::StringValue(self.as_str().to_owned()), None)
            }
        }
        impl FromField for $ty {
            fn from_field(field: &Field) -> Result<Self, DecodeError> {
                Ok(<$ty>::parse(string(field)?)?)
            }
        }
    )*};
}
text_values!(Email, Name, CurrencyCode, TimeZone);

macro_rules! enum_values {
    ($($ty:ty),*) => {$(
        impl SqlColumn for $ty {
            const SQL_TYPE: &'static str = "text";
        }
        impl ToParam for $ty {
            fn to_field(&self) -> (Field, Option<TypeHint>) {
                (Field::StringValue(self.as_str().to_owned()), None)
            }
        }
        impl FromField for $ty {
            fn from_field(field: &Field) -> Result<Self, DecodeError> {
                Ok(<$ty as SqlEnum>::parse(string(field)?)?)
            }
        }
    )*};
}
enum_values!(Role, AccountKind, Cleared, Frequency);

impl SqlColumn for Milliunits {
    const SQL_TYPE: &'static str = "bigint";
}
impl ToParam for Milliunits {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        (Field::LongValue(self.get()), None)
    }
}
impl FromField for Milliunits {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        i64::from_field(field).map(Milliunits::new)
    }
}

/// From a sum: PostgreSQL's `sum(bigint)` is a `numeric`, which the Data API answers as its exact
/// decimal text (`stringValue`); a `bigint` answers `longValue`.
impl FromField for Total {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        match field {
            Field::LongValue(n) => Ok(Total::new(i128::from(*n))),
            Field::StringValue(text) => text
                .parse::<i128>()
                .map(Total::new)
                .map_err(|_| DecodeError::Malformed(format!("{text:?} is not a whole sum of milliunits"))),
            other => Err(shape("a sum", other)),
        }
    }
}

impl SqlColumn for Month {
    const SQL_TYPE: &'static str = "date";
}
impl ToParam for Month {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        self.first_day().to_field()
    }
}
impl FromField for Month {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        let date = NaiveDate::from_field(field)?;
        let month = Month::containing(date);
        if month.first_day() == date {
            Ok(month)
        } else {
            Err(DecodeError::Malformed(format!(
                "{date} is not the first day of a month"
            )))
        }
    }
}

impl SqlColumn for NaiveDate {
    const SQL_TYPE: &'static str = "date";
}
impl ToParam for NaiveDate {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        (
            Field::StringValue(self.format("%Y-%m-%d").to_string()),
            Some(TypeHint::Date),
        )
    }
}
impl FromField for NaiveDate {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        let text = string(field)?;
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|e| DecodeError::Malformed(format!("{text}: {e}")))
    }
}

/// Instants travel as `YYYY-MM-DD HH:MM:SS.ffffff` in UTC: the Data API's TIMESTAMP format, and
/// how it returns `timestamptz` columns.
impl SqlColumn for DateTime<Utc> {
    const SQL_TYPE: &'static str = "timestamp with time zone";
}
impl ToParam for DateTime<Utc> {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        (
            Field::StringValue(self.format("%Y-%m-%d %H:%M:%S%.6f").to_string()),
            Some(TypeHint::Timestamp),
        )
    }
}
/// Also reads RFC 3339, as PostgreSQL renders an instant in JSON ([`super::json_record`]).
impl FromField for DateTime<Utc> {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        let text = string(field)?;
        if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
            return Ok(instant.with_timezone(&Utc));
        }
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .map(|naive| naive.and_utc())
            .map_err(|e| DecodeError::Malformed(format!("{text}: {e}")))
    }
}

impl SqlColumn for bool {
    const SQL_TYPE: &'static str = "boolean";
}
impl ToParam for bool {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        (Field::BooleanValue(*self), None)
    }
}
impl FromField for bool {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        match field {
            Field::BooleanValue(b) => Ok(*b),
            other => Err(shape("a boolean", other)),
        }
    }
}

impl SqlColumn for i64 {
    const SQL_TYPE: &'static str = "bigint";
}
impl ToParam for i64 {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        (Field::LongValue(*self), None)
    }
}
impl FromField for i64 {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        match field {
            Field::LongValue(n) => Ok(*n),
            other => Err(shape("a long", other)),
        }
    }
}

impl SqlColumn for i32 {
    const SQL_TYPE: &'static str = "integer";
}
impl ToParam for i32 {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        (Field::LongValue(i64::from(*self)), None)
    }
}
impl FromField for i32 {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        let n = i64::from_field(field)?;
        i32::try_from(n).map_err(|_| DecodeError::Malformed(format!("{n} does not fit an integer")))
    }
}

impl SqlColumn for String {
    const SQL_TYPE: &'static str = "text";
}
impl ToParam for String {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        self.as_str().to_field()
    }
}
impl ToParam for str {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        (Field::StringValue(self.to_owned()), None)
    }
}
impl FromField for String {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        string(field).map(str::to_owned)
    }
}

impl SqlColumn for Vec<u8> {
    const SQL_TYPE: &'static str = "bytea";
}
impl ToParam for Vec<u8> {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        self.as_slice().to_field()
    }
}
impl ToParam for [u8] {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        (Field::BlobValue(Blob::new(self.to_vec())), None)
    }
}
impl FromField for Vec<u8> {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        match field {
            Field::BlobValue(blob) => Ok(blob.as_ref().to_vec()),
            other => Err(shape("a blob", other)),
        }
    }
}

impl FromField for Vec<String> {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        match field {
            Field::ArrayValue(aws_sdk_rdsdata::types::ArrayValue::StringValues(items)) => {
                Ok(items.iter().flatten().cloned().collect())
            }
            other => Err(shape("an array of strings", other)),
        }
    }
}
