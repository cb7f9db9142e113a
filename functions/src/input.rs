//! Values every endpoint reads the same way from a request: money, dates, and fields that may be
//! sent as `null`.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};
use shared::domain::{MAX_AMOUNT, Milliunits, ParseError};

/// Money in a request: |amount| < [`MAX_AMOUNT`] (10^15 milliunits).
///
/// # Errors
/// [`ParseError::AmountOutOfRange`].
pub fn amount(value: i64) -> Result<Milliunits, ParseError> {
    if value.unsigned_abs() < MAX_AMOUNT.unsigned_abs() {
        Ok(Milliunits::new(value))
    } else {
        Err(ParseError::AmountOutOfRange)
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
/// [`ParseError::DateOutOfRange`] for anything else.
pub fn date(text: &str) -> Result<NaiveDate, ParseError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|date| in_date_range(*date))
        .ok_or(ParseError::DateOutOfRange)
}

/// For `#[serde(default, deserialize_with = "crate::input::present")]` on an `Option<Option<T>>`:
/// a field left out → `None`, sent as `null` → `Some(None)` (which clears it).
///
/// # Errors
/// When the value is not a `T`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
