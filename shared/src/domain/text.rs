//! Text values with rules: emails, ISO 4217 currency codes, and bounded names.

use std::fmt;

use super::ParseError;

macro_rules! text_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// An email address: trimmed, lower-cased, at most 254 characters, `local@domain.tld` in shape.
/// Deliverability is not checked (that is what an invitation email is for).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    /// # Errors
    /// [`ParseError::Empty`], [`ParseError::TooLong`] or [`ParseError::InvalidEmail`].
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let email = text.trim().to_lowercase();
        if email.is_empty() {
            return Err(ParseError::Empty);
        }
        if email.chars().count() > Self::MAX_LEN {
            return Err(ParseError::TooLong { max: Self::MAX_LEN });
        }
        let (local, domain) = email.rsplit_once('@').ok_or(ParseError::InvalidEmail)?;
        let shaped = !local.is_empty()
            && local.len() <= 64
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain.contains('.')
            && !domain.contains("..")
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if shaped {
            Ok(Self(email))
        } else {
            Err(ParseError::InvalidEmail)
        }
    }
}
text_value!(Email);

/// An ISO 4217 currency code: three upper-case ASCII letters (input is upper-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CurrencyCode(String);

impl CurrencyCode {
    /// # Errors
    /// [`ParseError::InvalidCurrency`].
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let code = text.trim().to_ascii_uppercase();
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err(ParseError::InvalidCurrency)
        }
    }

    pub fn usd() -> Self {
        Self("USD".to_owned())
    }
}
text_value!(CurrencyCode);

/// An IANA time zone name (`UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`), as the
/// shape of one: whether PostgreSQL knows it is the statement's to say (`pg_timezone_names`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeZone(String);

impl TimeZone {
    pub const MAX_LEN: usize = 64;
    /// The areas of IANA zone names.
    const AREAS: [&'static str; 11] = [
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
        "Etc",
    ];

    /// # Errors
    /// [`ParseError::InvalidTimeZone`].
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let shaped = text.len() <= Self::MAX_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b));
        // `UTC`, or a zone of a continent or ocean (not tzdata's `posix/…`, `right/…`, `localtime`).
        let area_zone = text.split_once('/').is_some_and(|(area, place)| {
            Self::AREAS.contains(&area) && place.starts_with(|c: char| c.is_ascii_uppercase())
        });
        if shaped && (text == "UTC" || area_zone) {
            Ok(Self(text.to_owned()))
        } else {
            Err(ParseError::InvalidTimeZone)
        }
    }

    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }
}
text_value!(TimeZone);

/// A display name (household, account, category, payee, person): trimmed, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    pub const MAX_LEN: usize = 100;

    /// # Errors
    /// [`ParseError::Empty`], [`ParseError::TooLong`] or [`ParseError::ControlCharacter`].
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let name = text.trim();
        if name.is_empty() {
            return Err(ParseError::Empty);
        }
        if name.chars().count() > Self::MAX_LEN {
            return Err(ParseError::TooLong { max: Self::MAX_LEN });
        }
        if name.chars().any(char::is_control) {
            return Err(ParseError::ControlCharacter);
        }
        Ok(Self(name.to_owned()))
    }
}
text_value!(Name);

/// Free text a person typed (a memo, a note): at most `max_chars` characters, with line breaks and
/// tabs but no other control characters. Those carry no text, and each takes six bytes once
/// escaped as JSON, so a few hundred of them would make a row too large to read back through the
/// Data API (64 KB).
///
/// # Errors
/// [`ParseError::TooLong`] or [`ParseError::ControlCharacter`].
pub fn free_text(text: &str, max_chars: usize) -> Result<(), ParseError> {
    if text.chars().count() > max_chars {
        return Err(ParseError::TooLong { max: max_chars });
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ParseError::ControlCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_holds_no_control_characters_but_free_text_keeps_its_lines() {
        assert_eq!(Name::parse("Corner\u{1}Shop"), Err(ParseError::ControlCharacter));
        assert_eq!(Name::parse("Corner\nShop"), Err(ParseError::ControlCharacter));
        assert!(Name::parse("Café \"Chez Ada\" \\ 𝄞").is_ok());
        assert_eq!(free_text("line one\nline two\ttab\r\n", 100), Ok(()));
        assert_eq!(free_text("\u{0}", 100), Err(ParseError::ControlCharacter));
        assert_eq!(free_text("\u{7f}", 100), Err(ParseError::ControlCharacter));
        assert_eq!(free_text(&"𝄞".repeat(3), 2), Err(ParseError::TooLong { max: 2 }));
    }

    #[test]
    fn emails_are_trimmed_lower_cased_and_shaped() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").map(|e| e.as_str().to_owned()),
            Ok("ada@example.com".to_owned())
        );
        for bad in [
            "ada",
            "@example.com",
            "ada@example",
            "ada@.example.com",
            "ada@example.com.",
            "ada@exa..mple.com",
            "a da@example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(ParseError::InvalidEmail), "{bad:?}");
        }
        assert_eq!(Email::parse("   "), Err(ParseError::Empty));
        // Accepted as it always was: stored accounts may have one, and stored rows parse with
        // this same rule (a stricter one would turn their reads into errors).
        assert!(Email::parse("ada@b@example.com").is_ok());
        let local = "a".repeat(65);
        assert_eq!(
            Email::parse(&format!("{local}@example.com")),
            Err(ParseError::InvalidEmail)
        );
        let long = format!("a@{}.com", "b".repeat(Email::MAX_LEN));
        assert_eq!(
            Email::parse(&long),
            Err(ParseError::TooLong { max: Email::MAX_LEN })
        );
    }

    #[test]
    fn names_count_characters_not_bytes() {
        let hundred = "é".repeat(Name::MAX_LEN);
        assert_eq!(
            Name::parse(&hundred).map(|n| n.as_str().chars().count()),
            Ok(Name::MAX_LEN)
        );
        assert_eq!(
            Name::parse(&format!("{hundred}e")),
            Err(ParseError::TooLong { max: Name::MAX_LEN })
        );
        assert_eq!(Name::parse(" \t "), Err(ParseError::Empty));
        assert_eq!(
            Name::parse("  Rent ").map(|n| n.as_str().to_owned()),
            Ok("Rent".to_owned())
        );
    }

    #[test]
    fn currency_codes_are_three_letters_upper_cased() {
        assert_eq!(
            CurrencyCode::parse("eur").map(|c| c.as_str().to_owned()),
            Ok("EUR".to_owned())
        );
        for bad in ["EU", "EURO", "E1R", "€UR", ""] {
            assert_eq!(
                CurrencyCode::parse(bad),
                Err(ParseError::InvalidCurrency),
                "{bad:?}"
            );
        }
    }
}

#[cfg(test)]
mod time_zone_tests {
    use super::TimeZone;

    #[test]
    fn time_zones_are_utc_or_an_area_and_a_place() {
        for good in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT-14",
            "Pacific/Auckland",
        ] {
            assert!(TimeZone::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "utc",
            "localtime",
            "posixrules",
            "Factory",
            "posix/Europe/Berlin",
            "right/UTC",
            "Europe/../etc",
            "Mars/Olympus",
            "Europe/berlin",
            "Europe/Berlin\n",
        ] {
            assert!(TimeZone::parse(bad).is_err(), "{bad}");
        }
    }
}
