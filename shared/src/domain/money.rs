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

/// A sum of amounts as the API shows it (a balance, a month's figure): exact, in 128 bits, so no
/// sum of amounts the API accepts can overflow (each is under [`MAX_AMOUNT`], 2^50; 2^77 of them
/// would be needed). A read never fails on a household's totals, however large.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Total(i128);

impl Total {
    pub const ZERO: Self = Self(0);

    pub const fn new(milliunits: i128) -> Self {
        Self(milliunits)
    }

    pub const fn get(self) -> i128 {
        self.0
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }
}

impl From<Milliunits> for Total {
    fn from(amount: Milliunits) -> Self {
        Self(i128::from(amount.0))
    }
}

/// The largest amount the API accepts, in absolute value, exclusive: 10^15 milliunits (a trillion
/// units) for a transaction, a split line, an opening balance or a month's assignment.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

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

impl fmt::Display for Milliunits {
    /// `-12.345`: units and three decimals, no currency.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:03}", abs / 1000, abs % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_a_thousand_milliunits_and_overflow_is_refused() {
        assert_eq!(Milliunits::from_units(12), Ok(Milliunits::new(12 * 1000)));
        assert_eq!(Milliunits::from_units(-7), Ok(Milliunits::new(-7000)));
        assert_eq!(
            Milliunits::from_units(i64::MAX / 1000 + 1),
            Err(ParseError::OutOfRange)
        );
    }

    #[test]
    fn arithmetic_is_checked_at_the_edges_of_64_bits() {
        let max = Milliunits::new(i64::MAX);
        assert_eq!(max.checked_add(Milliunits::new(1)), None);
        assert_eq!(Milliunits::new(i64::MIN).checked_sub(Milliunits::new(1)), None);
        assert_eq!(Milliunits::new(i64::MIN).checked_neg(), None);
        assert_eq!(
            Milliunits::new(5).checked_sub(Milliunits::new(8)),
            Some(Milliunits::new(-3))
        );
        assert!(Milliunits::new(-1).is_outflow() && !Milliunits::ZERO.is_outflow());
    }

    #[test]
    fn a_total_of_many_largest_amounts_is_exact() {
        let largest = Milliunits::new(MAX_AMOUNT - 1);
        let count: i128 = 1_000_000;
        let mut total = Total::ZERO;
        for _ in 0..count {
            total = total.checked_add(largest.into()).expect("128 bits hold it");
        }
        assert_eq!(total.get(), i128::from(MAX_AMOUNT - 1) * count);
        assert!(
            total.get() > i128::from(i64::MAX),
            "beyond what 64 bits could hold"
        );
    }

    #[test]
    fn amounts_stop_just_under_a_trillion_units_either_way() {
        let largest = MAX_AMOUNT - 1;
        assert_eq!(amount(largest), Ok(Milliunits::new(largest)));
        assert_eq!(amount(-largest), Ok(Milliunits::new(-largest)));
        for refused in [MAX_AMOUNT, -MAX_AMOUNT, i64::MAX, i64::MIN] {
            assert_eq!(amount(refused), Err(ParseError::AmountOutOfRange), "{refused}");
        }
    }

    #[test]
    fn display_shows_units_and_three_decimals() {
        assert_eq!(Milliunits::new(-12_345).to_string(), "-12.345");
        assert_eq!(Milliunits::new(7).to_string(), "0.007");
        assert_eq!(Milliunits::new(-7).to_string(), "-0.007");
        assert_eq!(Milliunits::new(i64::MIN).to_string(), "-9223372036854775.808");
    }
}
