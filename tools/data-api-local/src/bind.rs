//! Turns Data API parameters into typed PostgreSQL parameters, as strictly as Aurora does.
//!
//! Aurora's Data API binds through JDBC with a declared type per value kind, so PostgreSQL sees
//! `varchar` for an un-hinted string and refuses to compare it with a `uuid` column
//! (SQLState 42883/42804). Each parameter is therefore prepared with an explicit type here:
//!
//! | value                | declared type |
//! |----------------------|---------------|
//! | `stringValue`        | `varchar`, or by `typeHint`: `date`, `time`, `timestamp`, `numeric`, `uuid`, `json` |
//! | `longValue`          | `int8`        |
//! | `doubleValue`        | `float8`      |
//! | `booleanValue`       | `bool`        |
//! | `blobValue`          | `bytea`       |
//! | `isNull`             | unknown: PostgreSQL infers it from the context |
//! | `arrayValue`         | rejected, as the Data API rejects it |
//!
//! DATE, TIME and TIMESTAMP strings are checked against the formats JDBC's `valueOf` accepts
//! before PostgreSQL sees them: an ISO `2024-01-02T03:04:05Z` is a client error there, not a value.

use base64::Engine;
use bytes::BufMut;
use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};

use crate::error::ApiError;
use crate::protocol::{Field, SqlParameter, TypeHint};

/// A parameter value ready for the wire: PostgreSQL text input, raw binary, or NULL.
#[derive(Debug, Clone)]
pub enum Bound {
    Null,
    Text(String),
    Binary(Vec<u8>),
}

impl ToSql for Bound {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Bound::Null => return Ok(IsNull::Yes),
            Bound::Text(text) => out.put_slice(text.as_bytes()),
            Bound::Binary(raw) => out.put_slice(raw),
        }
        Ok(IsNull::No)
    }

    /// Every type is accepted: the statement was prepared with the type this value declared.
    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        match self {
            Bound::Text(_) => Format::Text,
            Bound::Null | Bound::Binary(_) => Format::Binary,
        }
    }

    to_sql_checked!();
}

/// The parameters of one statement, in `$n` order, with the types to prepare it with.
#[derive(Debug, Default)]
pub struct BoundParameters {
    pub types: Vec<Type>,
    pub values: Vec<Bound>,
}

/// Binds `parameters` to the placeholder `names` found in the SQL (`names[k]` is `$k+1`).
///
/// # Errors
/// `BadRequestException` for a placeholder with no parameter, a parameter without a name or
/// value, an array, a type hint on a non-string value, or a string that does not match its hint.
pub fn bind(names: &[String], parameters: &[SqlParameter]) -> Result<BoundParameters, ApiError> {
    let mut bound = BoundParameters::default();
    for parameter in parameters {
        if parameter.name.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::bad_request("Parameter name must be specified"));
        }
    }
    for name in names {
        let parameter = parameters
            .iter()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .ok_or_else(|| ApiError::bad_request(format!("No value specified for parameter: {name}")))?;
        let (ty, value) = bind_one(name, parameter)?;
        bound.types.push(ty);
        bound.values.push(value);
    }
    Ok(bound)
}

fn bind_one(name: &str, parameter: &SqlParameter) -> Result<(Type, Bound), ApiError> {
    let value = parameter
        .value
        .as_ref()
        .ok_or_else(|| ApiError::bad_request(format!("Parameter {name} has no value")))?;
    if parameter.type_hint.is_some() && !matches!(value, Field::StringValue(_)) {
        return Err(ApiError::bad_request(format!(
            "Parameter {name}: a typeHint applies only to a stringValue"
        )));
    }
    Ok(match value {
        Field::IsNull(true) => (Type::UNKNOWN, Bound::Null),
        Field::IsNull(false) => {
            return Err(ApiError::bad_request(format!(
                "Parameter {name}: isNull must be true when it is given"
            )));
        }
        Field::BooleanValue(b) => (Type::BOOL, Bound::Binary(vec![u8::from(*b)])),
        Field::LongValue(n) => (Type::INT8, Bound::Binary(n.to_be_bytes().to_vec())),
        Field::DoubleValue(x) => (Type::FLOAT8, Bound::Binary(x.to_be_bytes().to_vec())),
        Field::BlobValue(encoded) => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| ApiError::bad_request(format!("Parameter {name}: blobValue is not base64")))?;
            (Type::BYTEA, Bound::Binary(raw))
        }
        Field::ArrayValue(_) => {
            return Err(ApiError::bad_request("Array parameters are not supported."));
        }
        Field::StringValue(text) => bind_string(name, text, parameter.type_hint)?,
    })
}

fn bind_string(name: &str, text: &str, hint: Option<TypeHint>) -> Result<(Type, Bound), ApiError> {
    let ty = match hint {
        None => Type::VARCHAR,
        Some(TypeHint::Uuid) => Type::UUID,
        Some(TypeHint::Json) => Type::JSON,
        Some(TypeHint::Decimal) => {
            check(
                is_decimal(text),
                name,
                "Character array is not a valid decimal number",
            )?;
            Type::NUMERIC
        }
        Some(TypeHint::Date) => {
            check(is_date(text), name, "Date format must be yyyy-mm-dd")?;
            Type::DATE
        }
        Some(TypeHint::Time) => {
            check(is_time(text), name, "Time format must be hh:mm:ss[.fffffffff]")?;
            Type::TIME
        }
        Some(TypeHint::Timestamp) => {
            let ok = text
                .split_once(' ')
                .is_some_and(|(date, time)| is_date(date) && is_time(time));
            check(
                ok,
                name,
                "Timestamp format must be yyyy-mm-dd hh:mm:ss[.fffffffff]",
            )?;
            Type::TIMESTAMP
        }
    };
    Ok((ty, Bound::Text(text.to_owned())))
}

fn check(ok: bool, name: &str, message: &str) -> Result<(), ApiError> {
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("Parameter {name}: {message}")))
    }
}

fn digits(text: &str, count: usize) -> bool {
    text.len() == count && text.bytes().all(|b| b.is_ascii_digit())
}

/// `yyyy-mm-dd`, as `java.sql.Date.valueOf` takes it.
fn is_date(text: &str) -> bool {
    let mut parts = text.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(y), Some(m), Some(d), None) if digits(y, 4) && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len())
            && m.bytes().chain(d.bytes()).all(|b| b.is_ascii_digit())
    )
}

/// `hh:mm:ss[.f…]` with up to nine fraction digits.
fn is_time(text: &str) -> bool {
    let (clock, fraction) = match text.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (text, None),
    };
    let mut parts = clock.split(':');
    let clock_ok = matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(h), Some(m), Some(s), None) if digits(h, 2) && digits(m, 2) && digits(s, 2)
    );
    let fraction_ok =
        fraction.is_none_or(|f| (1..=9).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()));
    clock_ok && fraction_ok
}

/// A plain or scientific decimal, as `java.math.BigDecimal` parses it.
fn is_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mantissa_ok =
        !(int.is_empty() && frac.is_empty()) && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}
