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
