//! Turns PostgreSQL result values (binary wire format) into Data API fields, as Aurora returns them.
//!
//! | PostgreSQL                         | Field |
//! |------------------------------------|-------|
//! | bool                               | `booleanValue` |
//! | int2, int4, int8, oid              | `longValue` (`stringValue` with `longReturnType: STRING`) |
//! | float4, float8                     | `doubleValue` |
//! | numeric                            | `stringValue` (`doubleValue`/`longValue` with `DOUBLE_OR_LONG`) |
//! | text, varchar, bpchar, name, "char", uuid, json, jsonb | `stringValue` |
//! | date                               | `stringValue` `YYYY-MM-DD` |
//! | time                               | `stringValue` `HH:MM:SS[.ffffff]` |
//! | timestamp, timestamptz             | `stringValue` `YYYY-MM-DD HH:MM:SS[.ffffff]`, in UTC, no offset |
//! | bytea                              | `blobValue` |
//! | void (e.g. `SELECT pg_sleep(1)`)   | `stringValue` `""` |
//! | arrays of the scalar types above   | `arrayValue` (nested for more dimensions; NULL elements as `null`) |
//! | NULL                               | `isNull: true` |
//!
//! Fractions have their trailing zeros trimmed. Anything else, NaN and infinities included, is an
//! `UnsupportedResultException`, so code that relies on it fails here as it would on AWS.

use base64::Engine;
use tokio_postgres::types::{FromSql, Kind, Type};

use crate::error::ApiError;
use crate::protocol::{ArrayValue, DecimalReturnType, Field, LongReturnType, ResultSetOptions};

/// Raw bytes of one result cell, whatever its type.
pub struct RawValue<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawValue<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawValue(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawValue(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A decoded scalar before it is shaped as a `Field` or a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    /// A numeric, kept as its exact decimal text.
    Decimal(String),
    Text(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
}

fn unsupported(ty: &Type) -> ApiError {
    ApiError::unsupported_result(format!(
        "The result contains the unsupported data type {}.",
        ty.name()
    ))
}

fn unsupported_value(what: &str) -> ApiError {
    ApiError::unsupported_result(format!("The result contains an unsupported value: {what}."))
}

fn take<const N: usize>(raw: &[u8], ty: &Type) -> Result<[u8; N], ApiError> {
    raw.try_into().map_err(|_| unsupported(ty))
}

/// Decodes one cell of type `ty`.
pub fn decode(ty: &Type, raw: Option<&[u8]>) -> Result<Value, ApiError> {
    let Some(raw) = raw else { return Ok(Value::Null) };
    if let Kind::Array(element) = ty.kind() {
        return decode_array(element, raw);
    }
    Ok(match *ty {
        Type::BOOL => Value::Bool(raw.first().is_some_and(|b| *b != 0)),
        Type::INT2 => Value::Long(i16::from_be_bytes(take(raw, ty)?).into()),
        Type::INT4 => Value::Long(i32::from_be_bytes(take(raw, ty)?).into()),
        Type::OID => Value::Long(u32::from_be_bytes(take(raw, ty)?).into()),
        Type::INT8 => Value::Long(i64::from_be_bytes(take(raw, ty)?)),
        Type::FLOAT4 => finite(f32::from_be_bytes(take(raw, ty)?).into())?,
        Type::FLOAT8 => finite(f64::from_be_bytes(take(raw, ty)?))?,
        Type::NUMERIC => Value::Decimal(decode_numeric(raw)?),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::CHAR | Type::UNKNOWN => {
            Value::Text(String::from_utf8_lossy(raw).into_owned())
        }
        Type::JSONB => Value::Text(String::from_utf8_lossy(raw.get(1..).unwrap_or_default()).into_owned()),
        Type::UUID => Value::Text(format_uuid(&take::<16>(raw, ty)?)),
        Type::BYTEA => Value::Bytes(raw.to_vec()),
        // A function returning nothing: its text form is the empty string.
        Type::VOID => Value::Text(String::new()),
        Type::DATE => Value::Text(format_date(i32::from_be_bytes(take(raw, ty)?))?),
        Type::TIME => Value::Text(format_time_of_day(i64::from_be_bytes(take(raw, ty)?))),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            Value::Text(format_timestamp(i64::from_be_bytes(take(raw, ty)?))?)
        }
        _ => return Err(unsupported(ty)),
    })
}

fn finite(x: f64) -> Result<Value, ApiError> {
    if x.is_finite() {
        Ok(Value::Double(x))
    } else {
        Err(unsupported_value("NaN or Infinity"))
    }
}

/// PostgreSQL's binary array: ndim, has-null flag, element oid, (length, lower bound) per
/// dimension, then each element as (length or -1, bytes).
fn decode_array(element: &Type, raw: &[u8]) -> Result<Value, ApiError> {
    let mut reader = Reader(raw);
    let ndim = reader.i32()?;
    let _has_null = reader.i32()?;
    let _element_oid = reader.i32()?;
    let mut lengths = Vec::new();
    for _ in 0..ndim {
        lengths.push(usize::try_from(reader.i32()?).map_err(|_| unsupported_value("array shape"))?);
        let _lower_bound = reader.i32()?;
    }
    let total: usize = if ndim == 0 { 0 } else { lengths.iter().product() };
    let mut flat = Vec::with_capacity(total);
    for _ in 0..total {
        let len = reader.i32()?;
        let item = if len < 0 {
            None
        } else {
            Some(reader.bytes(len as usize)?)
        };
        flat.push(decode(element, item)?);
    }
    Ok(nest(&lengths, flat))
}

fn nest(lengths: &[usize], flat: Vec<Value>) -> Value {
    match lengths {
        [] | [_] => Value::Array(flat),
        [_, inner @ ..] => {
            let chunk: usize = inner.iter().product();
            let mut rows = Vec::new();
            let mut items = flat.into_iter();
            while items.len() > 0 {
                rows.push(nest(inner, items.by_ref().take(chunk.max(1)).collect()));
            }
            Value::Array(rows)
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], ApiError> {
        if self.0.len() < n {
            return Err(unsupported_value("truncated value"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn i32(&mut self) -> Result<i32, ApiError> {
        Ok(i32::from_be_bytes(self.bytes(4)?.try_into().unwrap_or_default()))
    }

    fn i16(&mut self) -> Result<i16, ApiError> {
        Ok(i16::from_be_bytes(self.bytes(2)?.try_into().unwrap_or_default()))
    }
}

/// numeric's binary form: ndigits, weight (of the first base-10000 digit), sign, display scale,
/// then the base-10000 digits.
fn decode_numeric(raw: &[u8]) -> Result<String, ApiError> {
    let mut reader = Reader(raw);
    let ndigits = reader.i16()?.max(0) as usize;
    let weight = i32::from(reader.i16()?);
    let sign = reader.i16()? as u16;
    let dscale = reader.i16()?.max(0) as usize;
    if sign != 0x0000 && sign != 0x4000 {
        return Err(unsupported_value("NaN or Infinity"));
    }
    let digits = (0..ndigits)
        .map(|_| reader.i16())
        .collect::<Result<Vec<_>, _>>()?;
    let digit_at = |position: i32| -> i16 {
        // position 0 is the base-10000 digit with weight `weight`
        usize::try_from(position)
            .ok()
            .and_then(|p| digits.get(p))
            .copied()
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for w in (0..=weight).rev() {
            let d = digit_at(weight - w);
            if w == weight {
                out.push_str(&d.to_string());
            } else {
                out.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let mut fraction = String::new();
        let mut w = -1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", digit_at(weight - w)));
            w -= 1;
        }
        fraction.truncate(dscale);
        out.push_str(&fraction);
    }
    if out == "-0" || (out.starts_with("-0") && out[1..].chars().all(|c| c == '0' || c == '.')) {
        out.remove(0);
    }
    Ok(out)
}

fn format_uuid(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Days since 2000-01-01 (PostgreSQL's epoch) as `YYYY-MM-DD`.
fn format_date(days: i32) -> Result<String, ApiError> {
    if days == i32::MAX || days == i32::MIN {
        return Err(unsupported_value("infinite date"));
    }
    let (y, m, d) = civil_from_days(i64::from(days) + DAYS_FROM_UNIX_TO_2000);
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

const DAYS_FROM_UNIX_TO_2000: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Microseconds since 2000-01-01 00:00 UTC as `YYYY-MM-DD HH:MM:SS[.ffffff]`.
fn format_timestamp(micros: i64) -> Result<String, ApiError> {
    if micros == i64::MAX || micros == i64::MIN {
        return Err(unsupported_value("infinite timestamp"));
    }
    let days = micros.div_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days + DAYS_FROM_UNIX_TO_2000);
    Ok(format!(
        "{y:04}-{m:02}-{d:02} {}",
        format_time_of_day(micros.rem_euclid(MICROS_PER_DAY))
    ))
}

fn format_time_of_day(micros: i64) -> String {
    let seconds = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    let mut out = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian), days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Shapes a decoded value as the Data API's `Field`.
pub fn to_field(value: Value, options: &ResultSetOptions) -> Result<Field, ApiError> {
    Ok(match value {
        Value::Null => Field::IsNull(true),
        Value::Bool(b) => Field::BooleanValue(b),
        Value::Long(n) => match options.long_return_type {
            LongReturnType::Long => Field::LongValue(n),
            LongReturnType::String => Field::StringValue(n.to_string()),
        },
        Value::Double(x) => Field::DoubleValue(x),
        Value::Decimal(text) => match options.decimal_return_type {
            DecimalReturnType::String => Field::StringValue(text),
            DecimalReturnType::DoubleOrLong => match text.parse::<i64>() {
                Ok(n) => Field::LongValue(n),
                Err(_) => Field::DoubleValue(text.parse().map_err(|_| unsupported_value(&text))?),
            },
        },
        Value::Text(text) => Field::StringValue(text),
        Value::Bytes(raw) => Field::BlobValue(base64::engine::general_purpose::STANDARD.encode(raw)),
        Value::Array(items) => Field::ArrayValue(to_array(items)?),
    })
}

fn to_array(items: Vec<Value>) -> Result<ArrayValue, ApiError> {
    // The element kind is that of the first non-NULL element; an all-NULL array reads as strings.
    let kind = items
        .iter()
        .find(|v| **v != Value::Null)
        .cloned()
        .unwrap_or(Value::Text(String::new()));
    Ok(match kind {
        Value::Array(_) => ArrayValue::ArrayValues(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Array(inner) => to_array(inner),
                    _ => Err(unsupported_value("ragged array")),
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Bool(_) => ArrayValue::BooleanValues(
            items
                .into_iter()
                .map(|v| if let Value::Bool(b) = v { Some(b) } else { None })
                .collect(),
        ),
        Value::Long(_) => ArrayValue::LongValues(
            items
                .into_iter()
                .map(|v| if let Value::Long(n) = v { Some(n) } else { None })
                .collect(),
        ),
        Value::Double(_) => ArrayValue::DoubleValues(
            items
                .into_iter()
                .map(|v| if let Value::Double(x) = v { Some(x) } else { None })
                .collect(),
        ),
        Value::Text(_) | Value::Decimal(_) | Value::Null => ArrayValue::StringValues(
            items
                .into_iter()
                .map(|v| match v {
                    Value::Text(t) | Value::Decimal(t) => Some(t),
                    _ => None,
                })
                .collect(),
        ),
        Value::Bytes(_) => return Err(unsupported_value("array of binary values")),
    })
}

/// Shapes a decoded value for `formatRecordsAs: JSON`: numbers as numbers, numeric as its exact
/// text, binary as base64 text, NULL as null.
pub fn to_json(value: Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => b.into(),
        Value::Long(n) => n.into(),
        Value::Double(x) => x.into(),
        Value::Decimal(text) | Value::Text(text) => text.into(),
        Value::Bytes(raw) => base64::engine::general_purpose::STANDARD.encode(raw).into(),
        Value::Array(items) => items.into_iter().map(to_json).collect(),
    }
}
