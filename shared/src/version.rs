//! Resource versions: the `ETag` every resource answers with, and the `If-Match` precondition that
//! keeps two household members editing at once from silently overwriting each other.
//!
//! A resource's version is its `updated_at` in microseconds since the epoch. Every write sets
//! `updated_at` with [`BUMP`], which always moves it forward, so a write always changes the ETag.
//! The precondition is checked in the write's own statement ([`matches`]), so checking it costs no
//! extra round trip and nothing can slip in between the check and the write.

use lambda_http::Request;
use lambda_http::http::header;

use aws_sdk_rdsdata::types::{Field, SqlParameter, TypeHint};

use crate::db::{DecodeError, FromField, ToParam, param};

/// The SQL expression of a row's version as a literal, for constant column lists:
/// `version_of!("t")` for row `t`, `version_of!()` where `updated_at` needs no alias (`RETURNING`).
/// [`version`] is the same for an alias known only at run time.
#[macro_export]
macro_rules! version_of {
    () => {
        $crate::version_of!(@column "updated_at")
    };
    ($alias:literal) => {
        $crate::version_of!(@column concat!($alias, ".updated_at"))
    };
    (@column $($column:tt)+) => {
        concat!("(extract(epoch FROM ", $($column)+, ") * 1000000)::bigint")
    };
}

/// The SQL expression of a row's version, for `SELECT` lists: `version(alias)`.
pub fn version(alias: &str) -> String {
    format!(crate::version_of!("{}"), alias)
}

/// [`BUMP`]'s text, its `updated_at` read with `$prefix` (`""` or an alias and a dot).
macro_rules! bump_sql {
    ($prefix:literal) => {
        concat!(
            "updated_at = GREATEST(clock_timestamp(), ",
            $prefix,
            "updated_at + interval '1 microsecond')"
        )
    };
}

/// The `SET` clause that moves a row's `updated_at` (and so its version) forward, even for two
/// writes within one microsecond.
pub const BUMP: &str = bump_sql!("");

/// [`BUMP`] for row `alias`, where a bare `updated_at` would be ambiguous (beside another table's
/// `updated_at`, or `excluded` in an `ON CONFLICT DO UPDATE`).
pub fn bump(alias: &str) -> String {
    format!(bump_sql!("{}."), alias)
}

/// The `WHERE` condition that holds when the request's `If-Match` (parameter `if_match`, see
/// [`Precondition::param`]) allows writing the row `alias`.
pub fn matches(alias: &str) -> String {
    format!(
        "(:if_match::text IS NULL OR :if_match = '*' OR {} = ANY (string_to_array(:if_match, ',')::bigint[]))",
        version(alias)
    )
}

/// A resource's version, as read with [`version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(i64);

impl Version {
    /// The `ETag` header value: a strong entity tag.
    pub fn etag(self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl FromField for Version {
    fn from_field(field: &Field) -> Result<Self, DecodeError> {
        i64::from_field(field).map(Self)
    }
}

/// What the request's `If-Match` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No header: write unconditionally.
    None,
    /// `*`: write if the resource exists.
    Any,
    /// Write only if the current version is one of these. A tag that is not one of ours (or a weak
    /// tag, which `If-Match` never matches) is kept as an impossible version, so it fails with 412.
    Versions(Vec<i64>),
}

impl Precondition {
    /// Reads `If-Match` from the request.
    pub fn of(request: &Request) -> Self {
        let values: Vec<&str> = request
            .headers()
            .get_all(header::IF_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            return Self::None;
        }
        let tags: Vec<&str> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        if tags.contains(&"*") {
            return Self::Any;
        }
        Self::Versions(
            tags.iter()
                .map(|tag| {
                    tag.strip_prefix('"')
                        .and_then(|t| t.strip_suffix('"'))
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(-1)
                })
                .collect(),
        )
    }

    /// The `if_match` parameter [`matches`] reads: NULL, `*`, or the versions comma-separated.
    pub fn param(&self) -> SqlParameter {
        match self {
            Self::None => param("if_match", &Option::<String>::None),
            Self::Any => param("if_match", "*"),
            Self::Versions(versions) => {
                let list: Vec<String> = versions.iter().map(ToString::to_string).collect();
                param("if_match", list.join(",").as_str())
            }
        }
    }
}

impl ToParam for Version {
    fn to_field(&self) -> (Field, Option<TypeHint>) {
        self.0.to_field()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_if_match(values: &[&str]) -> Request {
        let mut builder = lambda_http::http::Request::builder();
        for value in values {
            builder = builder.header(header::IF_MATCH, *value);
        }
        builder.body(lambda_http::Body::Empty).expect("a request")
    }

    #[test]
    fn if_match_reads_strong_tags_and_keeps_foreign_ones_as_impossible() {
        assert_eq!(Precondition::of(&with_if_match(&[])), Precondition::None);
        assert_eq!(
            Precondition::of(&with_if_match(&["\"7\", \"9\""])),
            Precondition::Versions(vec![7, 9])
        );
        assert_eq!(
            Precondition::of(&with_if_match(&["\"7\"", "\"8\""])),
            Precondition::Versions(vec![7, 8])
        );
        assert_eq!(Precondition::of(&with_if_match(&["\"1\", *"])), Precondition::Any);
        assert_eq!(
            Precondition::of(&with_if_match(&["W/\"7\"", "\"abc\""])),
            Precondition::Versions(vec![-1, -1])
        );
    }

    #[test]
    fn the_version_expression_is_one_formula_for_literals_and_run_time_aliases() {
        assert_eq!(version("t"), crate::version_of!("t"));
        assert_eq!(
            crate::version_of!(),
            "(extract(epoch FROM updated_at) * 1000000)::bigint"
        );
        assert!(matches("a").contains(&version("a")));
        assert_eq!(Version(1_796_652_341_863_559).etag(), "\"1796652341863559\"");
    }
}
