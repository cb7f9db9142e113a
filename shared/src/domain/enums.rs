//! Closed sets of values, stored as text with a CHECK constraint that lists [`SqlEnum::VALUES`].

use super::ParseError;

/// An enum stored as text; its table mapping adds `CHECK (column IN (VALUES…))`.
pub trait SqlEnum: Sized + Copy + 'static {
    const VALUES: &'static [&'static str];
    fn as_str(self) -> &'static str;

    /// # Errors
    /// [`ParseError::NotOneOf`] naming the allowed values.
    fn parse(text: &str) -> Result<Self, ParseError>;
}

macro_rules! sql_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl SqlEnum for $name {
            const VALUES: &'static [&'static str] = &[$($text),+];

            fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            fn parse(text: &str) -> Result<Self, $crate::domain::ParseError> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::domain::ParseError::NotOneOf { allowed: Self::VALUES }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                <Self as SqlEnum>::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use sql_enum;

sql_enum! {
    /// A member's role in a household.
    Role { Owner => "owner", Member => "member" }
}

sql_enum! {
    /// What an account is; credit cards, lines of credit and loans carry debt.
    AccountKind {
        Checking => "checking",
        Savings => "savings",
        Cash => "cash",
        CreditCard => "credit_card",
        LineOfCredit => "line_of_credit",
        Loan => "loan",
        Investment => "investment",
        Other => "other",
    }
}

sql_enum! {
    /// How far a transaction has been matched against the bank's statement.
    Cleared { Uncleared => "uncleared", Cleared => "cleared", Reconciled => "reconciled" }
}
