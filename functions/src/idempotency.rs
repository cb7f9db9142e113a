//! `Idempotency-Key`: a retried write answers what the first one did instead of running again.
//!
//! The key is claimed in the endpoint's own statement: [`crate::access::ME`] includes inserting
//! the key into `idempotency_keys`, and the caller counts as a member only if that insert
//! happened. So the claim and the write commit together or not at all, and a repeat of a key
//! (or a concurrent duplicate, which waits on the first one's insert) finds no `me` row and writes
//! nothing. The statement says so in its first column (`key-taken`, see [`crate::access::Caller`]),
//! the handler returns [`ApiError::KeyTaken`], and the glue answers from the kept record instead
//! ([`replay`]): the first answer, 409 while the first request still runs (or after it ended
//! without an answer), or 422 when the key came with a different request.
//!
//! A key belongs to the member who sent it: a kept answer is repeated only to its sender, only
//! while they are still a member with the role they had (an owner's answer is not repeated to them
//! once demoted: 403), and the same key from another member is refused (409), never answered from
//! the sender's record.
//!
//! After a request that claimed its key, [`store`] keeps the answer and deletes the household's
//! expired keys, so no scheduler is needed. Either way a request with a key costs exactly one
//! Data API call more than without.

use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_rdsdata::types::SqlParameter;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};
use shared::auth::Claims;
use shared::db::{Db, DbError, param};
use shared::domain::{HouseholdId, IdempotencyRecordId, TokenFamilyId, UserId};
use shared::http::ApiError;

/// The request header, as clients send it.
pub const HEADER: &str = "Idempotency-Key";

/// Sent on an answer that was kept from an earlier request with the same key.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The claim every household statement makes (see [`crate::access::ME`]): nothing without a key
/// (`:idempotency_key` NULL). An expired record of the same key is taken over. A macro so that
/// `ME` can be one constant.
#[macro_export]
macro_rules! claim_sql {
    () => {
        concat!(
            "claim AS ( \
           INSERT INTO idempotency_keys (id, household_id, user_id, role, key, fingerprint, expires_at) \
           SELECT :idempotency_id, :household_id, :user_id, u.role, :idempotency_key, :idempotency_fingerprint, \
                  now() + interval '24 hours' \
           FROM users u \
           WHERE :idempotency_key::text IS NOT NULL AND u.id = :user_id AND u.household_id = :household_id \
             AND ",
            $crate::live_session_sql!(),
            " ON CONFLICT (household_id, key) DO UPDATE \
             SET id = EXCLUDED.id, fingerprint = EXCLUDED.fingerprint, user_id = EXCLUDED.user_id, \
                 role = EXCLUDED.role, status = NULL, \
                 content_type = NULL, etag = NULL, body = NULL, created_at = now(), \
                 expires_at = EXCLUDED.expires_at \
             WHERE idempotency_keys.expires_at <= now() \
           RETURNING id)"
        )
    };
}

/// One request's key, set by the glue for the handler's whole run.
#[derive(Debug)]
pub struct Scope {
    id: IdempotencyRecordId,
    key: String,
    fingerprint: String,
    /// Who the handler's statement claimed for, once it built one.
    claimed_for: Mutex<Option<(HouseholdId, UserId, TokenFamilyId)>>,
}

impl Scope {
    /// The key of a write request, if it carries one.
    ///
    /// # Errors
    /// 422 for a key that is empty, longer than 255 characters, or not visible ASCII.
    pub fn of(request: &Request) -> Result<Option<Arc<Self>>, ApiError> {
        if !shared::http::writes(request.method().as_str()) {
            return Ok(None);
        }
        let Some(value) = request.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .filter(|key| (1..=MAX_KEY_LEN).contains(&key.len()))
            .filter(|key| key.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::invalid(
                    HEADER,
                    "must be 1 to 255 visible ASCII characters (no spaces), e.g. a UUID",
                )
            })?;
        Ok(Some(Arc::new(Self {
            id: IdempotencyRecordId::new(),
            key: key.to_owned(),
            fingerprint: fingerprint(request),
            claimed_for: Mutex::new(None),
        })))
    }

    fn claimed_for(&self) -> Option<(HouseholdId, UserId, TokenFamilyId)> {
        *self.claimed_for.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The claim's parameters for a household statement by `user` of `household` (NULL without a
/// key). Records who claimed, for [`store`] and [`replay`].
pub fn statement_params(scope: Option<&Scope>, claims: &Claims) -> [SqlParameter; 3] {
    if let Some(scope) = scope {
        let claimer = (claims.hid, claims.sub, claims.sid);
        *scope.claimed_for.lock().unwrap_or_else(PoisonError::into_inner) = Some(claimer);
    }
    [
        param("idempotency_id", &scope.map(|s| s.id)),
        param("idempotency_key", &scope.map(|s| s.key.as_str())),
        param("idempotency_fingerprint", &scope.map(|s| s.fingerprint.as_str())),
    ]
}

/// What identifies "the same request": method, path with query, and body.
fn fingerprint(request: &Request) -> String {
    let mut hash = Sha256::new();
    hash.update(request.method().as_str());
    hash.update(b"\n");
    hash.update(request.uri().path());
    hash.update(b"?");
    hash.update(request.uri().query().unwrap_or(""));
    hash.update(b"\n");
    hash.update(request.body().as_ref());
    hex::encode(hash.finalize())
}

/// A claim without an answer this old belongs to a request that can no longer be running: the API
/// functions' `Timeout` in template.yaml is 25 s.
const STILL_RUNNING_SECONDS: u32 = 30;

/// Longest piece of a kept body per row: the Data API answers rows of at most 64 KB, and
/// 16,000 characters are under that even at 4 bytes each.
const PART_CHARS: usize = 16_000;

static REPLAY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT k.fingerprint = :fingerprint, k.status, k.content_type, k.etag, part.text, \
                k.created_at < now() - interval '{STILL_RUNNING_SECONDS} seconds', \
                k.user_id IS NOT DISTINCT FROM :user_id, \
                COALESCE(k.role = 'member' OR u.role = 'owner', false) \
         FROM idempotency_keys k \
         JOIN users u ON u.id = :user_id AND u.household_id = k.household_id \
           AND {live_session} \
         LEFT JOIN LATERAL ( \
           SELECT n, substr(k.body, n * {PART_CHARS} + 1, {PART_CHARS}) AS text \
           FROM generate_series(0, greatest(char_length(k.body) - 1, 0) / {PART_CHARS}) AS n \
           WHERE k.body IS NOT NULL) AS part ON true \
         WHERE k.household_id = :household_id AND k.key = :key \
         ORDER BY part.n",
        live_session = crate::live_session_sql!(),
    )
});

/// The answer for a request whose statement found its key already claimed
/// ([`ApiError::KeyTaken`]): the kept answer, 422 for the same key with another request, 409
/// while the first request runs or when the key is another member's, 403 when the sender has
/// lost the role the first request needed.
///
/// # Errors
/// Those answers; [`ApiError::KeyTaken`] itself when the record is gone (it expired, or the
/// caller left the household, since the statement); a database failure.
pub async fn replay(db: &Db, scope: &Scope) -> Result<Response<Body>, ApiError> {
    let Some((household, user, session)) = scope.claimed_for() else {
        return Err(ApiError::Internal(
            "a key was taken by a statement that claimed nothing".to_owned(),
        ));
    };
    let params = vec![
        param("household_id", &household),
        param("user_id", &user),
        param("session_id", &session),
        param("key", scope.key.as_str()),
        param("fingerprint", scope.fingerprint.as_str()),
    ];
    let rows = db.execute(&REPLAY, params).await?;
    let Some(first) = rows.first() else {
        return Err(ApiError::KeyTaken);
    };
    // Whose key it is first: a record without a sender (kept before migration 0005) is nobody's.
    let mine: bool = first.get(6)?;
    if !mine {
        return Err(ApiError::Conflict(
            "This Idempotency-Key was already used by another member of your household (or before an upgrade); send your request with a new key (a new UUID)."
                .to_owned(),
        ));
    }
    let (same_request, still_allowed): (bool, bool) = (first.get(0)?, first.get(7)?);
    if !still_allowed {
        return Err(ApiError::Forbidden(
            "The first request with this Idempotency-Key was made as an owner, which you no longer are; its answer is not repeated.",
        ));
    }
    if !same_request {
        return Err(ApiError::invalid(
            HEADER,
            "was already used with a different request; use a new key for a new request",
        ));
    }
    let Some(status) = first.get::<Option<i32>>(1)? else {
        let ended: bool = first.get(5)?;
        return Err(ApiError::Conflict(if ended {
            "The first request with this Idempotency-Key ended without an answer (its function \
             instance stopped); what it did is kept. Read the resource to see its state."
                .to_owned()
        } else {
            "A request with this Idempotency-Key is still running; try again in a few seconds.".to_owned()
        }));
    };
    let content_type: Option<String> = first.get(2)?;
    let etag: Option<String> = first.get(3)?;
    let mut body = String::new();
    for row in rows.iter() {
        if let Some(part) = row.get::<Option<String>>(4)? {
            body.push_str(&part);
        }
    }
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| ApiError::Internal(format!("kept answer has status {status}")))?;
    let mut builder = Response::builder().status(status).header(REPLAYED, "true");
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    if let Some(etag) = etag {
        builder = builder.header(header::ETAG, etag);
    }
    let body = if status == StatusCode::NO_CONTENT {
        Body::Empty
    } else {
        Body::Text(body)
    };
    builder
        .body(body)
        .map_err(|error| ApiError::Internal(error.to_string()))
}

const STORE: &str = "WITH expired AS ( \
       DELETE FROM idempotency_keys \
       WHERE household_id = :household_id AND expires_at <= now() AND id <> :id) \
     UPDATE idempotency_keys \
     SET status = :status, content_type = :content_type, etag = :etag, body = :body \
     WHERE id = :id AND household_id = :household_id AND status IS NULL";

/// Keeps `response` as the answer to the request that claimed the key (if its statement
/// committed; otherwise nothing is kept and a retry runs afresh), and deletes the household's
/// expired keys.
///
/// # Errors
/// A database failure.
pub async fn store(db: &Db, scope: &Scope, response: &Response<Body>) -> Result<(), DbError> {
    let Some((household, _, _)) = scope.claimed_for() else {
        return Ok(());
    };
    let text = |name: header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .map(str::to_owned)
    };
    // Every answer here is text (JSON, a problem document, a page) or empty.
    let body = match response.body() {
        Body::Text(text) => Some(text.clone()),
        Body::Binary(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    };
    let params = vec![
        param("id", &scope.id),
        param("household_id", &household),
        param("status", &i64::from(response.status().as_u16())),
        param("content_type", &text(header::CONTENT_TYPE)),
        param("etag", &text(header::ETAG)),
        param("body", &body),
    ];
    db.execute(STORE, params).await.map(drop)
}
