//! A record carried as JSON text: a statement that must keep its answer to repeat it later (a
//! keyed write, see `functions::idempotency`) answers each row as the JSON array of its columns,
//! both the first time and when it repeats a kept answer, so the two read alike by construction.
//!
//! PostgreSQL renders each column the way `to_json` does; this turns them back into the fields the
//! Data API would have answered, so [`super::FromField`] reads them unchanged: text, uuids, enums
//! and dates are strings, integers longs, booleans booleans, a `json` column its text. Instants
//! come as RFC 3339 (`2026-12-07T17:00:00.123456+00:00`), which [`super::FromField`] also reads.

use aws_sdk_rdsdata::types::Field;
use serde_json::Value;

use super::DecodeError;

/// The SQL that renders row `alias` (a whole-row reference) as the JSON array [`decode`] reads:
/// its columns in order, duplicate names and all.
#[macro_export]
macro_rules! json_record_sql {
    ($alias:literal) => {
        concat!(
            "(SELECT json_agg(c.value) FROM json_each(row_to_json(",
            $alias,
            ")) AS c)"
        )
    };
}

/// The fields of one record from its JSON array text.
///
/// # Errors
/// [`DecodeError::Malformed`] for text that is not a JSON array, or a number that is neither a
/// 64-bit integer nor a float (an exact sum beyond `i64` would lose digits; cast it to text).
pub fn decode(text: &str) -> Result<Vec<Field>, DecodeError> {
    let values: Vec<Value> = serde_json::from_str(text)
        .map_err(|error| DecodeError::Malformed(format!("a kept record is not a JSON array: {error}")))?;
    values.into_iter().map(field).collect()
}

fn field(value: Value) -> Result<Field, DecodeError> {
    Ok(match value {
        Value::Null => Field::IsNull(true),
        Value::Bool(b) => Field::BooleanValue(b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(long), _) => Field::LongValue(long),
            (None, Some(double)) if !n.is_u64() => Field::DoubleValue(double),
            _ => {
                return Err(DecodeError::Malformed(format!(
                    "{n} does not fit a 64-bit integer"
                )));
            }
        },
        Value::String(text) => Field::StringValue(text),
        // A `json` column the statement did not cast to text: the Data API answers its text.
        nested @ (Value::Array(_) | Value::Object(_)) => Field::StringValue(nested.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};

    use super::*;
    use crate::db::FromField;

    fn one(text: &str) -> Vec<Field> {
        decode(text).expect("a JSON array")
    }

    #[test]
    fn columns_keep_their_order_and_kinds() {
        let fields = one(r#"["owner", null, true, 42, -7, "2026-12-07", "[1,2]"]"#);
        assert_eq!(String::from_field(&fields[0]).ok(), Some("owner".to_owned()));
        assert_eq!(Option::<String>::from_field(&fields[1]).ok(), Some(None));
        assert_eq!(bool::from_field(&fields[2]).ok(), Some(true));
        assert_eq!(i64::from_field(&fields[3]).ok(), Some(42));
        assert_eq!(i64::from_field(&fields[4]).ok(), Some(-7));
        assert_eq!(
            NaiveDate::from_field(&fields[5]).ok(),
            NaiveDate::from_ymd_opt(2026, 12, 7)
        );
        assert_eq!(String::from_field(&fields[6]).ok(), Some("[1,2]".to_owned()));
    }

    #[test]
    fn the_extremes_of_a_bigint_stay_exact() {
        let fields = one(&format!("[{}, {}]", i64::MAX, i64::MIN));
        assert_eq!(i64::from_field(&fields[0]).ok(), Some(i64::MAX));
        assert_eq!(i64::from_field(&fields[1]).ok(), Some(i64::MIN));
    }

    #[test]
    fn a_number_beyond_a_bigint_is_refused_rather_than_rounded() {
        assert!(decode("[18446744073709551615]").is_err());
        assert!(decode("[1e400]").is_err());
    }

    #[test]
    fn an_instant_reads_as_json_renders_it_and_as_the_data_api_does() {
        let expected = NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_micro_opt(17, 0, 0, 123_456))
            .map(|t| t.and_utc());
        for text in [
            r#"["2026-12-07T17:00:00.123456+00:00"]"#,
            r#"["2026-12-07T18:00:00.123456+01:00"]"#,
            r#"["2026-12-07 17:00:00.123456"]"#,
        ] {
            assert_eq!(
                DateTime::<Utc>::from_field(&one(text)[0]).ok(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn a_nested_json_value_reads_as_its_text() {
        let fields = one(r#"[{"a": [1, "x"]}]"#);
        assert_eq!(
            String::from_field(&fields[0]).ok(),
            Some(r#"{"a":[1,"x"]}"#.to_owned())
        );
    }

    #[test]
    fn text_that_is_not_an_array_is_refused() {
        assert!(decode(r#"{"a": 1}"#).is_err());
        assert!(decode("not json").is_err());
    }
}
