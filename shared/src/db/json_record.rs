//! A record carried as JSON text: a statement that must keep its answer to repeat it later (a
//! keyed write, see `functions::idempotency`) answers each row as the JSON array of its columns,
//! both the first time and when it repeats a kept answer, so the two read alike by construction.
//!
//! PostgreSQL renders each column the way `to_json` does; this turns them back into the fields the
//! Data API would have answered, so [`super::FromField`] reads them unchanged: text, uuids, enums
//! and dates are strings, integers longs (an exact sum beyond 64 bits its decimal text, as the Data
//! API answers a `numeric`), booleans booleans, a `json` column its text. Instants come as
//! RFC 3339 (`2026-12-07T17:00:00.123456+00:00`), which [`super::FromField`] also reads.

use aws_sdk_rdsdata::types::Field;
use serde_json::Value;
use serde_json::value::RawValue;

use super::DecodeError;

/// The most bytes one record may take as the database sends it: the Data API answers rows of at
/// most 64 KB, and the row also holds its state. A macro so that SQL can be one constant.
#[macro_export]
macro_rules! max_record_bytes {
    () => {
        "64000"
    };
}

/// The most bytes an answer's records may take in a Data API response, escaped as JSON strings
/// with each row's framing (`row_framing_bytes!`): under its 1 MiB, with room for the rest.
#[macro_export]
macro_rules! max_answer_bytes {
    () => {
        "1000000"
    };
}

/// What a row costs in a Data API response besides its record: `[{"stringValue":"repeat"},
/// {"stringValue":` and `}],`.
#[macro_export]
macro_rules! row_framing_bytes {
    () => {
        "48"
    };
}

/// The error a statement raises (as a failed cast, plain SQL's way) when its answer would be
/// larger than the Data API returns: the statement fails as a whole, so nothing is written
/// without the answer that says so.
#[macro_export]
macro_rules! answer_too_large {
    () => {
        "answer too large for the Data API"
    };
}

pub const ANSWER_TOO_LARGE: &str = answer_too_large!();

/// Whether a database error is the one [`answer_too_large!`] names: the failed cast (22P02) of
/// the marker, quoted at the start of PostgreSQL's message, so no text a user wrote elsewhere in
/// an error can pass for it.
pub fn is_answer_too_large(sql_state: &str, message: &str) -> bool {
    let cast = concat!(
        "invalid input syntax for type integer: \"",
        answer_too_large!(),
        ": "
    );
    sql_state == "22P02" && message.trim_start_matches("ERROR: ").starts_with(cast)
}

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
/// [`DecodeError::Malformed`] for text that is not a JSON array.
pub fn decode(text: &str) -> Result<Vec<Field>, DecodeError> {
    let values: Vec<&RawValue> = serde_json::from_str(text).map_err(malformed)?;
    values.into_iter().map(|value| field(value.get())).collect()
}

/// One column from its JSON text. A number is read from its literal, so that an exact sum beyond
/// 64 bits (a `numeric`) stays exact: as the Data API answers a `numeric`, its decimal text.
fn field(literal: &str) -> Result<Field, DecodeError> {
    if literal.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        if let Ok(long) = literal.parse::<i64>() {
            return Ok(Field::LongValue(long));
        }
        let integer = literal.strip_prefix('-').unwrap_or(literal);
        if integer.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Field::StringValue(literal.to_owned()));
        }
        return literal
            .parse::<f64>()
            .map(Field::DoubleValue)
            .map_err(|_| DecodeError::Malformed(format!("{literal} is not a number")));
    }
    Ok(match serde_json::from_str(literal).map_err(malformed)? {
        Value::Null => Field::IsNull(true),
        Value::Bool(b) => Field::BooleanValue(b),
        Value::String(text) => Field::StringValue(text),
        // A `json` column: the Data API answers its text.
        nested => Field::StringValue(nested.to_string()),
    })
}

fn malformed(error: serde_json::Error) -> DecodeError {
    DecodeError::Malformed(format!("a record is not a JSON array of values: {error}"))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};

    use super::*;
    use crate::db::FromField;
    use crate::domain::Total;

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
    fn a_sum_beyond_a_bigint_stays_exact_as_the_data_api_answers_a_numeric() {
        let fields = one("[18446744073709551615, -9500000000000000000000]");
        assert_eq!(
            Total::from_field(&fields[0]).ok(),
            Some(Total::new(18_446_744_073_709_551_615))
        );
        assert_eq!(
            Total::from_field(&fields[1]).ok(),
            Some(Total::new(-9_500_000_000_000_000_000_000))
        );
        assert!(
            i64::from_field(&fields[0]).is_err(),
            "not silently cut to 64 bits"
        );
    }

    #[test]
    fn a_fraction_is_a_double() {
        assert!(matches!(one("[1.5]")[0], Field::DoubleValue(d) if (d - 1.5).abs() < f64::EPSILON));
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
    fn only_the_failed_cast_of_the_marker_is_an_answer_too_large() {
        let cast = format!("invalid input syntax for type integer: \"{ANSWER_TOO_LARGE}: 81127\"");
        assert!(is_answer_too_large("22P02", &cast));
        assert!(is_answer_too_large("22P02", &format!("ERROR: {cast}")));
        assert!(!is_answer_too_large("23505", &cast));
        let quoted = format!("invalid input syntax for type uuid: \"{ANSWER_TOO_LARGE}: 1\"");
        assert!(!is_answer_too_large("22P02", &quoted));
    }

    #[test]
    fn text_that_is_not_an_array_is_refused() {
        assert!(decode(r#"{"a": 1}"#).is_err());
        assert!(decode("not json").is_err());
    }
}
