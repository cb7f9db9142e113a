//! `Idempotency-Key`: a retried write answers what the first one did instead of running again.
//!
//! The key is claimed in the endpoint's own statement: [`crate::access::ME`] includes inserting
//! the key into `idempotency_keys`, and the caller counts as a member only if that insert
//! happened. Every household write statement ends in [`ANSWER`], which keeps the rows the answer
//! is built from (its `answer` CTE) in `idempotency_answers` under the claim, in the same
//! statement: the write, its claim and its answer commit together or not at all, in one Data API
//! call.
//!
//! A repeat of a key (or a concurrent duplicate, which waits on the first one's insert) finds no
//! `me` row and writes nothing. The same statement then answers, in place of fresh rows, the kept
//! rows of the first request, which the handler turns into the same answer
//! ([`crate::access::answer`]; the glue marks it `Idempotent-Replayed` and leaves out the secrets
//! an answer shows only once); or says why not: 409 while the first request still runs, 422 when
//! the key came with a different request.
//!
//! A key belongs to the member who sent it: a kept answer is repeated only to its sender, only
//! while they are still a member with the role they had (an owner's answer is not repeated to them
//! once demoted: 403), and the same key from another member is refused (409), never answered from
//! the sender's record.
//!
//! A request that claims its key also deletes its household's expired keys and answers, so no
//! scheduler is needed. Answers kept by the release before migration 0006 (as a response in
//! `idempotency_keys`) are repeated by [`replay_kept_before_upgrade`], one call more.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_rdsdata::types::SqlParameter;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};
use shared::auth::Claims;
use shared::db::{Db, Rows, param};
use shared::domain::{HouseholdId, IdempotencyRecordId, UserId};
use shared::http::ApiError;

/// The request header, as clients send it.
pub const HEADER: &str = "Idempotency-Key";

/// Sent on an answer that was kept from an earlier request with the same key.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// What [`crate::access::ME`]'s `caller` says of a live member whose `Idempotency-Key` was
/// already claimed, and what [`ANSWER`] looks for. A macro so that both can be one constant.
#[macro_export]
macro_rules! key_taken {
    () => {
        "key-taken"
    };
}

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
    claimed_for: Mutex<Option<(HouseholdId, UserId)>>,
    /// Whether the statement answered the kept rows of an earlier request with this key.
    repeated: AtomicBool,
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
            repeated: AtomicBool::new(false),
        })))
    }

    /// Whether the handler's answer repeats an earlier request's (set by [`crate::access::answer`]).
    pub fn repeated(&self) -> bool {
        self.repeated.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_repeated(&self) {
        self.repeated.store(true, Ordering::Relaxed);
    }

    fn claimed_for(&self) -> Option<(HouseholdId, UserId)> {
        *self.claimed_for.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The claim's parameters for a household statement by `user` of `household` (NULL without a
/// key). Records who claimed, for [`replay_kept_before_upgrade`].
pub fn statement_params(scope: Option<&Scope>, claims: &Claims) -> [SqlParameter; 3] {
    if let Some(scope) = scope {
        let claimer = (claims.hid, claims.sub);
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
/// functions' `Timeout` in template.yaml is 25 s. A macro so that [`ANSWER`] can be one constant.
macro_rules! still_running_seconds {
    () => {
        "30"
    };
}

/// What the end of a household write says of each row it answers (its first column), besides
/// `fresh` and `repeat`: why an earlier request's answer is not repeated. A macro so that
/// [`ANSWER`] can be one constant; [`answered`] reads the same names.
macro_rules! state {
    (fresh) => {
        "fresh"
    };
    (repeat) => {
        "repeat"
    };
    (running) => {
        "running"
    };
    (ended) => {
        "ended"
    };
    (other_member) => {
        "other-member"
    };
    (demoted) => {
        "demoted"
    };
    (other_request) => {
        "other-request"
    };
    (kept_before_upgrade) => {
        "kept-before-upgrade"
    };
}

/// How every household write statement ends: `WITH {ME}, …, answer AS (SELECT …) {ANSWER}`.
/// `answer` is what the handler builds its answer from (its first column the caller, as
/// [`crate::access::ME`] says).
///
/// Its rows are numbered once (`numbered`), each as a JSON array of its columns
/// ([`shared::db::json_record`]). With a claimed key (`claim`) they are kept under the claim, and
/// the household's expired keys and answers go. The statement answers `(state, record)` rows:
/// `answer`'s own, or when the key was taken (`caller` says `key-taken`) the rows kept by the
/// request that took it, if it is the caller's, for the same request, and still theirs to see;
/// otherwise one row saying why not. A key row this statement cannot see belongs to a request
/// that has not committed: it is still running as far as this one knows (at `REPEATABLE READ` the
/// statement that waited for it fails with 40001 and runs again, and then sees it).
///
/// An answer larger than the Data API returns (a row over 64 KB, or 1 MiB in all) makes the whole
/// statement fail ([`shared::db::json_record::ANSWER_TOO_LARGE`], 413): nothing is written
/// without the answer that says so.
#[rustfmt::skip]
pub const ANSWER: &str = concat!(
    ", numbered AS ( \
       SELECT row_number() OVER () AS n, ", shared::json_record_sql!("a"), " AS record FROM answer a), \
     kept AS ( \
       INSERT INTO idempotency_answers (id, household_id, records, expires_at) \
       SELECT c.id, :household_id, \
              COALESCE((SELECT json_agg(x.record ORDER BY x.n) FROM numbered x), '[]')::text, \
              now() + interval '24 hours' \
       FROM claim c), \
     expired_keys AS ( \
       DELETE FROM idempotency_keys k \
       WHERE k.household_id = :household_id AND k.expires_at <= now() AND k.key <> :idempotency_key \
         AND EXISTS (SELECT 1 FROM claim)), \
     expired_answers AS ( \
       DELETE FROM idempotency_answers x \
       WHERE x.household_id = :household_id AND x.expires_at <= now() AND EXISTS (SELECT 1 FROM claim)), \
     earlier AS ( \
       SELECT CASE WHEN k.id IS NULL THEN '", state!(running), "' \
                   WHEN k.user_id IS DISTINCT FROM :user_id THEN '", state!(other_member), "' \
                   WHEN NOT (k.role = 'member' OR m.role = 'owner') THEN '", state!(demoted), "' \
                   WHEN k.fingerprint <> :idempotency_fingerprint THEN '", state!(other_request), "' \
                   WHEN x.records IS NOT NULL THEN '", state!(repeat), "' \
                   WHEN k.status IS NOT NULL THEN '", state!(kept_before_upgrade), "' \
                   WHEN k.created_at < now() - interval '", still_running_seconds!(), " seconds' \
                     THEN '", state!(ended), "' \
                   ELSE '", state!(running), "' END AS state, \
              x.records \
       FROM member_now m \
       LEFT JOIN idempotency_keys k ON k.household_id = :household_id AND k.key = :idempotency_key \
       LEFT JOIN idempotency_answers x ON x.id = k.id AND x.household_id = k.household_id \
       WHERE (SELECT role FROM caller) = '", crate::key_taken!(), "') \
     SELECT state, \
            CASE WHEN octet_length(record) > ", shared::max_record_bytes!(), " \
                   OR sum(octet_length(to_json(record)::text) + ", shared::row_framing_bytes!(), ") OVER () \
                      > ", shared::max_answer_bytes!(), " \
                 THEN CAST('", shared::answer_too_large!(), ": ' || octet_length(record) AS integer)::text \
                 ELSE record END \
     FROM ( \
       SELECT 0 AS part, x.n, '", state!(fresh), "' AS state, x.record::text AS record \
       FROM numbered x WHERE NOT EXISTS (SELECT 1 FROM earlier) \
       UNION ALL \
       SELECT 1, r.n, e.state, r.record::text FROM earlier e \
       LEFT JOIN LATERAL json_array_elements(e.records::json) WITH ORDINALITY AS r (record, n) \
         ON e.state = '", state!(repeat), "' \
     ) AS answered ORDER BY part, n"
);

/// The rows a statement ending in [`ANSWER`] answered, and whether they repeat an earlier
/// request's.
///
/// # Errors
/// Why an earlier request's answer is not repeated: 409 while it runs (or when it ended without
/// one) or when the key is another member's, 403 when the sender has lost the role it needed, 422
/// for another request with the same key; [`ApiError::KeyTaken`] for an answer kept before
/// migration 0006 ([`replay_kept_before_upgrade`]); 500 for rows not in that shape.
pub fn answered(rows: &Rows) -> Result<(Rows, bool), ApiError> {
    let mut records = Vec::with_capacity(rows.len());
    let mut repeat = false;
    for row in rows.iter() {
        let state: String = row.get(0)?;
        match state.as_str() {
            state!(fresh) => records.push(row.get::<String>(1)?),
            state!(repeat) => {
                repeat = true;
                // An answer of no rows is kept as one state row without a record.
                records.extend(row.get::<Option<String>>(1)?);
            }
            other => return Err(refusal(other)),
        }
    }
    let rows = Rows::from_json_records(records.iter().map(String::as_str))?;
    Ok((rows, repeat))
}

/// Why the answer kept for a key is not repeated, by its state in [`ANSWER`].
fn refusal(state: &str) -> ApiError {
    match state {
        state!(running) => ApiError::Conflict(
            "A request with this Idempotency-Key is still running; try again in a few seconds.".to_owned(),
        ),
        state!(ended) => ApiError::Conflict(
            "The first request with this Idempotency-Key ended without an answer (its function \
             instance stopped); what it did is kept. Read the resource to see its state."
                .to_owned(),
        ),
        state!(other_member) => ApiError::Conflict(
            "This Idempotency-Key was already used by another member of your household (or before an upgrade); send your request with a new key (a new UUID)."
                .to_owned(),
        ),
        state!(demoted) => ApiError::Forbidden(
            "The first request with this Idempotency-Key was made as an owner, which you no longer are; its answer is not repeated.",
        ),
        state!(other_request) => ApiError::invalid(
            HEADER,
            "was already used with a different request; use a new key for a new request",
        ),
        state!(kept_before_upgrade) => ApiError::KeyTaken,
        unknown => ApiError::Internal(format!("a keyed write answered the state {unknown:?}")),
    }
}

/// Longest piece of a kept body per row: the Data API answers rows of at most 64 KB, and
/// 16,000 characters are under that even at 4 bytes each.
const PART_CHARS: usize = 16_000;

static KEPT_BEFORE_UPGRADE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT k.status, k.content_type, k.etag, part.text \
         FROM idempotency_keys k \
         LEFT JOIN LATERAL ( \
           SELECT n, substr(k.body, n * {PART_CHARS} + 1, {PART_CHARS}) AS text \
           FROM generate_series(0, greatest(char_length(k.body) - 1, 0) / {PART_CHARS}) AS n \
           WHERE k.body IS NOT NULL) AS part ON true \
         WHERE k.household_id = :household_id AND k.key = :key AND k.user_id = :user_id \
           AND k.fingerprint = :fingerprint AND k.status IS NOT NULL \
         ORDER BY part.n"
    )
});

/// The answer kept for a key by the release before migration 0006, as a response in
/// `idempotency_keys`, once the write statement found it ([`ApiError::KeyTaken`]) and checked
/// that it is the caller's to see, for the same request.
///
/// # Errors
/// [`ApiError::KeyTaken`] itself when the record is gone (it expired since the statement); a
/// database failure.
pub async fn replay_kept_before_upgrade(db: &Db, scope: &Scope) -> Result<Response<Body>, ApiError> {
    let Some((household, user)) = scope.claimed_for() else {
        return Err(ApiError::Internal(
            "a key was taken by a statement that claimed nothing".to_owned(),
        ));
    };
    let params = vec![
        param("household_id", &household),
        param("user_id", &user),
        param("key", scope.key.as_str()),
        param("fingerprint", scope.fingerprint.as_str()),
    ];
    let rows = db.execute(&KEPT_BEFORE_UPGRADE, params).await?;
    let first = rows.first().ok_or(ApiError::KeyTaken)?;
    let status: i32 = first.get(0)?;
    let content_type: Option<String> = first.get(1)?;
    let etag: Option<String> = first.get(2)?;
    let mut body = String::new();
    for row in rows.iter() {
        if let Some(part) = row.get::<Option<String>>(3)? {
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
