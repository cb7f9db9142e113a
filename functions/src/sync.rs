//! Delta sync: every list accepts `?last_knowledge_of_server=N` and then answers only what changed
//! after N, deletions as tombstones; every list answers `server_knowledge`, the number to send
//! next time.
//!
//! The numbers come from the schema (see `shared::schema::tables`): each write raises its
//! household's `server_knowledge` and stamps the rows it writes with it, in the same statement,
//! and a delete leaves a row in `tombstones`. The list statements read the rows stamped after N
//! and the tombstones after N in the same snapshot as the household's number, so a client that
//! sends back what it was given misses nothing and sees nothing twice (except, harmlessly, a
//! change that raced a multi-page read).

use aws_sdk_rdsdata::types::SqlParameter;
use lambda_http::{Request, RequestExt};
use serde::Serialize;
use shared::db::{Row, param};
use shared::http::ApiError;

/// The query parameter.
pub const PARAM: &str = "last_knowledge_of_server";

/// The client's knowledge when it asked for a delta; `None` for a full read.
///
/// # Errors
/// 422 when it is not a whole number from 0 on.
pub fn since(request: &Request) -> Result<Option<i64>, ApiError> {
    let query = request.query_string_parameters();
    let Some(text) = query.first(PARAM) else {
        return Ok(None);
    };
    match text.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Some(n)),
        _ => Err(ApiError::invalid(
            PARAM,
            "must be a whole number from 0 on: the server_knowledge of an earlier answer",
        )),
    }
}

/// The statement parameter `known`, the client's knowledge (NULL for a full read).
pub fn param_since(since: Option<i64>) -> SqlParameter {
    param("known", &since)
}

/// The condition that row `alias` changed after the client's knowledge (always true for a full
/// read).
pub fn changed(alias: &str) -> String {
    format!("(:known::bigint IS NULL OR {alias}.knowledge > :known::bigint)")
}

/// Two columns: the household's server knowledge, and the ids of the `kind` rows deleted after
/// the client's knowledge as a JSON array (NULL for a full read or when there are none).
pub fn columns(kind: &str) -> String {
    format!(
        "(SELECT server_knowledge FROM households WHERE id = :household_id), {deleted}",
        deleted = deleted_ids(kind)
    )
}

/// The ids of the `kind` rows deleted after the client's knowledge, as a JSON array (NULL for a
/// full read or when there are none).
pub fn deleted_ids(kind: &str) -> String {
    format!(
        "(SELECT json_agg(d.id ORDER BY d.knowledge, d.id)::text FROM tombstones d \
          WHERE d.household_id = :household_id AND d.kind = '{kind}' AND d.knowledge > :known::bigint)"
    )
}

/// What [`columns`] read.
#[derive(Debug)]
pub struct Knowledge {
    pub server_knowledge: i64,
    pub deleted: Vec<String>,
}

impl Knowledge {
    /// Reads [`columns`] at column `at`.
    ///
    /// # Errors
    /// 422 when the client's knowledge is ahead of the server's (it came from elsewhere); 500
    /// when the row does not have that shape.
    pub fn read(row: &Row<'_>, at: usize, since: Option<i64>) -> Result<Self, ApiError> {
        let server_knowledge: i64 = row.get(at)?;
        ahead(since, server_knowledge)?;
        let deleted: Option<String> = row.get(at + 1)?;
        let deleted = match deleted {
            Some(json) => serde_json::from_str(&json)
                .map_err(|error| ApiError::Internal(format!("deleted ids: {error}")))?,
            None => Vec::new(),
        };
        Ok(Self {
            server_knowledge,
            deleted,
        })
    }

    /// `items` (the live rows that changed), then a tombstone for each deleted id.
    pub fn with_tombstones<T: Serialize>(&self, items: Vec<T>) -> Vec<Change<T>> {
        items
            .into_iter()
            .map(Change::Live)
            .chain(self.deleted.iter().map(|id| Change::Deleted(Tombstone::of(id))))
            .collect()
    }
}

/// 422 when the client's knowledge is ahead of `server_knowledge`.
///
/// # Errors
/// As above.
pub fn ahead(since: Option<i64>, server_knowledge: i64) -> Result<(), ApiError> {
    match since {
        Some(n) if n > server_knowledge => Err(ApiError::invalid(
            PARAM,
            format!("is ahead of this household's server knowledge ({server_knowledge}); do a full read"),
        )),
        _ => Ok(()),
    }
}

/// A row deleted after the client's knowledge.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Tombstone {
    #[schema(format = Uuid)]
    pub id: String,
    /// Always `true`.
    pub deleted: bool,
}

impl Tombstone {
    fn of(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            deleted: true,
        }
    }
}

/// A list item: a live row, or the tombstone of one deleted after the client's knowledge.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Change<T> {
    Live(T),
    Deleted(Tombstone),
}
