//! Values every endpoint reads the same way from a request: money and dates.

use chrono::NaiveDate;
use shared::domain::{Milliunits, ParseError};

/// Money in a request: |amount| < 10^15 milliunits.
///
/// # Errors
/// [`ParseError::OutOfRange`].
pub fn amount(value: i64) -> Result<Milliunits, ParseError> {
    if value.unsigned_abs() < 1_000_000_000_000_000 {
        Ok(Milliunits::new(value))
    } else {
        Err(ParseError::OutOfRange)
    }
}

/// Whether `date` is one the API takes: 1900-01-01 to 2199-12-31.
pub fn in_date_range(date: NaiveDate) -> bool {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1);
    let latest = NaiveDate::from_ymd_opt(2199, 12, 31);
    Some(date) >= earliest && Some(date) <= latest
}

/// A date in a request: `YYYY-MM-DD` within [`in_date_range`].
///
/// # Errors
/// [`ParseError::OutOfRange`] for anything else.
pub fn date(text: &str) -> Result<NaiveDate, ParseError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|date| in_date_range(*date))
        .ok_or(ParseError::OutOfRange)
}
