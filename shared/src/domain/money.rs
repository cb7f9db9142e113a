//! Money as signed 64-bit milliunits: 1 unit of the household's currency = 1000 milliunits,
//! negative = outflow. Never a float; arithmetic is checked.

use std::fmt;

use super::ParseError;

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Milliunits(i64);

impl Milliunits {
    pub const ZERO: Self = Self(0);
    pub const PER_UNIT: i64 = 1000;

    pub const fn new(milliunits: i64) -> Self {
        Self(milliunits)
    }

    /// Whole units, e.g. `from_units(12)` = 12.000.
    ///
    /// # Errors
    /// [`ParseError::OutOfRange`] when it does not fit in 64 bits.
    pub fn from_units(units: i64) -> Result<Self, ParseError> {
        units
            .checked_mul(Self::PER_UNIT)
            .map(Self)
            .ok_or(ParseError::OutOfRange)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    pub fn checked_neg(self) -> Option<Self> {
        self.0.checked_neg().map(Self)
    }

    pub const fn is_outflow(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for Milliunits {
    /// `-12.345`: units and three decimals, no currency.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:03}", abs / 1000, abs % 1000)
    }
}
