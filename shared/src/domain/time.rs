//! Calendar values: a budget month.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::ParseError;

/// A budget month: stored as its first day (`date`), written `YYYY-MM` in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(NaiveDate);

impl Month {
    /// Parses `YYYY-MM`.
    ///
    /// # Errors
    /// [`ParseError::InvalidMonth`].
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let (year, month) = text.trim().split_once('-').ok_or(ParseError::InvalidMonth)?;
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4) || !digits(month, 2) {
            return Err(ParseError::InvalidMonth);
        }
        let year = year.parse().map_err(|_| ParseError::InvalidMonth)?;
        let month = month.parse().map_err(|_| ParseError::InvalidMonth)?;
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(Self)
            .ok_or(ParseError::InvalidMonth)
    }

    /// The month a date falls in.
    pub fn containing(date: NaiveDate) -> Self {
        Self(date.with_day(1).unwrap_or(date))
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
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
    // chrono alone also takes `2026-1-5` and `+2026-01-05`; the API promises exactly YYYY-MM-DD.
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(at, b)| {
            if at == 4 || at == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    Some(text)
        .filter(|_| shaped)
        .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .filter(|date| in_date_range(*date))
        .ok_or(ParseError::DateOutOfRange)
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month())
    }
}

impl serde::Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_exactly_four_digits_a_dash_and_two() {
        let month = Month::parse("2026-02").expect("a month");
        assert_eq!(
            month.first_day(),
            NaiveDate::from_ymd_opt(2026, 2, 1).expect("a date")
        );
        assert_eq!(month.to_string(), "2026-02");
        assert_eq!(
            Month::parse(" 2026-12 ").map(|m| m.to_string()),
            Ok("2026-12".to_owned())
        );
        for bad in [
            "2026-13",
            "2026-00",
            "2026-2",
            "26-02",
            "2026/02",
            "2026-02-01",
            "",
            "-2026-02",
            "２026-02",
        ] {
            assert_eq!(Month::parse(bad), Err(ParseError::InvalidMonth), "{bad:?}");
        }
    }

    #[test]
    fn a_date_belongs_to_the_month_of_its_first_day() {
        let last = NaiveDate::from_ymd_opt(2024, 2, 29).expect("a leap day");
        assert_eq!(Month::containing(last).to_string(), "2024-02");
        assert!(Month::parse("2025-12").expect("month") < Month::parse("2026-01").expect("month"));
    }

    #[test]
    fn dates_are_iso_days_from_1900_to_2199() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        assert_eq!(date("1900-01-01"), Ok(day(1900, 1, 1)));
        assert_eq!(date("2199-12-31"), Ok(day(2199, 12, 31)));
        assert_eq!(date("2024-02-29"), Ok(day(2024, 2, 29)));
        for refused in [
            "1899-12-31",
            "2200-01-01",
            "2025-02-29",
            "2026-1-5",
            "+2026-01-05",
            "07/12/2026",
            "",
        ] {
            assert_eq!(date(refused), Err(ParseError::DateOutOfRange), "{refused:?}");
        }
    }

    #[test]
    fn json_carries_a_month_as_its_text_and_refuses_others() {
        let month: Month = serde_json::from_str("\"2030-07\"").expect("a month");
        assert_eq!(serde_json::to_string(&month).expect("text"), "\"2030-07\"");
        assert!(serde_json::from_str::<Month>("\"2030-7\"").is_err());
    }
}
