//! `/auth/*`: register, login, refresh, logout, password. Each issues or revokes refresh tokens in
//! the same single statement that does its other work, so every endpoint stays within its
//! round-trip budget.

pub mod login;
pub mod logout;
pub mod password;
pub mod refresh;
pub mod register;
pub mod throttle;

use chrono::{DateTime, Utc};
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use shared::auth::{REFRESH_TOKEN_TTL, SESSION_TTL, SecretToken, TokenSigner};
use shared::db::param;
use shared::domain::{HouseholdId, RefreshTokenId, Role, TokenFamilyId, UserId};
use shared::http::{ApiError, json_body};

use aws_sdk_rdsdata::types::SqlParameter;

/// Why an invitation token joins nothing (register and accept): one answer for every reason, so
/// that it tells nothing about the invitation.
pub const UNUSABLE_INVITATION: &str = "is unknown, already used, expired, or for another email";

/// The member a registration or an acceptance adds and their session's first refresh token, as the
/// common table expressions `member (id, household_id, role)` and `session (user_id)`, after a CTE
/// `joined (household_id, role)` whose closing parenthesis this supplies. The new member's id,
/// email, password hash and display name are the given SQL expressions (parameters, or columns of
/// `joined`); the token's are those of [`NewRefreshToken::params`]. A macro so that the statements
/// stay constants.
#[macro_export]
macro_rules! member_and_session {
    ($id:literal, $email:literal, $password_hash:literal, $display_name:literal) => {
        concat!(
            "
), member AS (
    INSERT INTO users (id, household_id, email, password_hash, display_name, role)
    SELECT ",
            $id,
            ", joined.household_id, ",
            $email,
            ", ",
            $password_hash,
            ", ",
            $display_name,
            ", joined.role FROM joined
    RETURNING id, household_id, role
), session AS (
    INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, session_expires_at)
    SELECT :token_id, member.id, :family_id, :token_hash, :expires_at, :session_expires_at FROM member
    RETURNING user_id
)"
        )
    };
}

/// What register, login and refresh answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub user_id: UserId,
    pub household_id: HouseholdId,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// A refresh token about to be stored: the parameters of its `INSERT`.
pub struct NewRefreshToken {
    pub id: RefreshTokenId,
    /// `None` when the statement takes the family from the token being rotated.
    pub family: Option<TokenFamilyId>,
    pub token: SecretToken,
    pub expires_at: DateTime<Utc>,
    /// When the session ends whatever its refreshes ([`SESSION_TTL`] after it began).
    pub session_expires_at: DateTime<Utc>,
}

impl NewRefreshToken {
    /// The first token of a new session `family` (a login or a registration).
    pub fn in_family(family: TokenFamilyId, now: DateTime<Utc>) -> Self {
        Self {
            family: Some(family),
            ..Self::rotation(now)
        }
    }

    /// A token replacing a presented one, in the presented token's family.
    pub fn rotation(now: DateTime<Utc>) -> Self {
        Self {
            id: RefreshTokenId::new(),
            family: None,
            token: SecretToken::generate(),
            expires_at: now + REFRESH_TOKEN_TTL,
            session_expires_at: now + SESSION_TTL,
        }
    }

    /// `:token_id`, `:token_hash`, `:expires_at`, and for a new family `:family_id` and
    /// `:session_expires_at` (a rotation keeps its family's).
    pub fn params(&self) -> Vec<SqlParameter> {
        let mut params = vec![
            param("token_id", &self.id),
            param("token_hash", &self.token.hash()),
            param("expires_at", &self.expires_at),
        ];
        if let Some(family) = &self.family {
            params.push(param("family_id", family));
            params.push(param("session_expires_at", &self.session_expires_at));
        }
        params
    }
}

/// The body of refresh.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RefreshTokenBody)]
struct PresentedBody {
    refresh_token: String,
}

/// The refresh token a request presents in its body.
///
/// # Errors
/// 400/413/415 for the body, 422 when `refresh_token` is missing or not a token.
pub fn presented_token(request: &Request) -> Result<SecretToken, ApiError> {
    let body: PresentedBody = json_body(request)?;
    refresh_token(&body.refresh_token)
}

/// A body's `refresh_token` field as a token.
///
/// # Errors
/// 422 naming `refresh_token` when it is not one.
pub fn refresh_token(text: &str) -> Result<SecretToken, ApiError> {
    SecretToken::parse(text).map_err(|e| ApiError::invalid("refresh_token", e.to_string()))
}

/// Signs an access token and pairs it with the refresh token.
///
/// # Errors
/// 500 if signing fails (it does not with a valid key).
pub fn session(
    keys: &TokenSigner,
    (user, household, role): (UserId, HouseholdId, Role),
    family: TokenFamilyId,
    refresh: &SecretToken,
    now: DateTime<Utc>,
) -> Result<Session, ApiError> {
    let access = keys
        .issue(user, household, role, family, now)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Session {
        user_id: user,
        household_id: household,
        access_token: access.token,
        refresh_token: refresh.secret().to_owned(),
        token_type: "Bearer",
        expires_in: access.expires_in,
    })
}

/// Runs a CPU-heavy password function off the async executor.
///
/// # Errors
/// 500 if the blocking task panicked.
pub async fn off_executor<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}
