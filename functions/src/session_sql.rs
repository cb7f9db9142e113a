//! The check every signed-in statement makes that the caller's session is still live, on its own
//! so that [`crate::access`] and [`crate::idempotency`] both use it without using each other.

/// The caller's session (`:session_id`, the token's `sid`) has not ended: its refresh-token
/// family still holds a live token. Logout, a reused refresh token, a password change or the
/// session's absolute end revoke the family, and the next request with one of its access tokens
/// is refused, in the statement it runs anyway (no extra call). A macro so that `ME` can be one
/// constant.
#[macro_export]
macro_rules! live_session_sql {
    () => {
        "EXISTS (SELECT 1 FROM refresh_tokens s WHERE s.family_id = :session_id \
           AND s.user_id = :user_id AND s.revoked_at IS NULL AND s.expires_at > now())"
    };
}
