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

/// The SQL expression of a row's version, for `SELECT` lists: `version(alias)`.
pub fn version(alias: &str) -> String {
    format!("(extract(epoch FROM {alias}.updated_at) * 1000000)::bigint")
}

/// The `SET` clause that moves a row's `updated_at` (and so its version) forward, even for two
/// writes within one microsecond.
pub const BUMP: &str = "updated_at = GREATEST(clock_timestamp(), updated_at + interval '1 microsecond')";

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
