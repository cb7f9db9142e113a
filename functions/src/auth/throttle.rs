//! Failed password checks, counted and locked in `login_throttles`: for login, per email and
//! source address and per source address; for a password change, per account. A key is the
//! SHA-256 of what it counts, so the table holds no email, address or id in clear.

use aws_sdk_rdsdata::types::SqlParameter;
use sha2::{Digest, Sha256};
use shared::db::param;
use shared::http::ApiError;

/// How long failures are counted, and how long a lock lasts.
pub const LOCK_SECONDS: i64 = 15 * 60;

/// One counter: its key and the failures within [`LOCK_SECONDS`] that lock it.
pub struct Counter {
    pub key: Vec<u8>,
    pub max_failures: i64,
}

impl Counter {
    /// The counter of `parts` (e.g. `["pair", email, address]`), locking at `max_failures`.
    pub fn of(parts: &[&str], max_failures: i64) -> Self {
        Self {
            key: Sha256::digest(parts.join("\0").as_bytes()).to_vec(),
            max_failures,
        }
    }
}

/// Seconds until the counters joined as `aliases` (`LEFT JOIN login_throttles <alias> ON
/// <alias>.id = :<alias>_key`) open again; 0 when none is locked.
pub fn locked_for(aliases: &[&str]) -> String {
    let until: Vec<String> = aliases.iter().map(|a| format!("{a}.locked_until")).collect();
    format!(
        "coalesce(ceil(extract(epoch FROM greatest({}) - now())), 0)::bigint",
        until.join(", ")
    )
}

/// 429 with `Retry-After` while a counter is locked: `seconds` as [`locked_for`] reads them.
///
/// # Errors
/// [`ApiError::TooManyRequests`] for `seconds` above 0.
pub fn refuse_while_locked(seconds: i64) -> Result<(), ApiError> {
    if seconds > 0 {
        return Err(ApiError::TooManyRequests {
            retry_after_seconds: seconds.unsigned_abs(),
        });
    }
    Ok(())
}

/// Counts a failure against one or two counters (`:second_key` NULL for one); a counter that
/// reaches its limit locks for [`LOCK_SECONDS`] and starts again. Also drops a few rows idle for a
/// day, so the table holds only recent failures.
pub const RECORD_FAILURE: &str = "\
WITH idle AS (
    DELETE FROM login_throttles WHERE id IN (
        SELECT id FROM login_throttles WHERE updated_at < now() - interval '1 day' LIMIT 100)
)
INSERT INTO login_throttles AS t (id, max_failures, failures, window_started_at)
SELECT key, max_failures, 1, now()
FROM (VALUES (:first_key::bytea, :first_max::int), (:second_key::bytea, :second_max::int))
     AS counted (key, max_failures)
WHERE key IS NOT NULL
ON CONFLICT (id) DO UPDATE SET
    failures = CASE WHEN t.window_started_at <= now() - :lock_seconds * interval '1 second' THEN 1
                    WHEN t.failures + 1 >= t.max_failures THEN 0
                    ELSE t.failures + 1 END,
    window_started_at = CASE WHEN t.window_started_at <= now() - :lock_seconds * interval '1 second'
                             THEN now() ELSE t.window_started_at END,
    locked_until = CASE WHEN t.window_started_at > now() - :lock_seconds * interval '1 second'
                             AND t.failures + 1 >= t.max_failures
                        THEN now() + :lock_seconds * interval '1 second' ELSE t.locked_until END,
    updated_at = now()";

/// [`RECORD_FAILURE`]'s parameters for `first` and, if any, `second`.
pub fn failure_params(first: &Counter, second: Option<&Counter>) -> Vec<SqlParameter> {
    vec![
        param("first_key", &first.key),
        param("first_max", &first.max_failures),
        param("second_key", &second.map(|c| c.key.clone())),
        param("second_max", &second.map(|c| c.max_failures)),
        param("lock_seconds", &LOCK_SECONDS),
    ]
}
