//! `POST /auth/login`: exchange email and password for a session. Two Data API calls, whatever
//! the outcome: read the user and the throttles, then record the failure, or the success and the
//! new session. An unknown email costs the same calls and the same argon2 work as a known one with
//! a wrong password, and answers the same 401.
//!
//! Throttling ([`super::throttle`]), so that a stranger cannot lock anyone out and a guesser pays:
//! - ten failures for one email from one source address lock that pair for 15 minutes (429 with
//!   `Retry-After`); the account's owner elsewhere is unaffected;
//! - a hundred failures from one source address within 15 minutes lock that address for 15
//!   minutes, whatever the email, before any password is hashed: the argon2 work one address can
//!   cause is bounded (per-client limits beyond that belong to a WAF in front of the API).

use std::sync::LazyLock;

use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;
use shared::auth::{DUMMY_HASH, Password, hash_password, needs_rehash, verify_password};
use shared::db::param;
use shared::domain::{Email, HouseholdId, Role, TokenFamilyId, UserId};
use shared::http::{ApiError, Fields, Reply, Route, json_body};

use super::throttle::{self, Counter};
use super::{NewRefreshToken, off_executor, session};
use crate::app::App;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("POST", "/auth/login");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Sign in with email and password")
        .public()
        .body::<LoginBody>(json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .answers::<super::Session>(200, "Signed in.")
        .problem(401, "The email or password is incorrect.")
        .problem(
            429,
            "Too many failed attempts for this email from your address, or from your address; wait `Retry-After` seconds.",
        )
}

/// Failures for one email from one address that lock that pair.
pub const MAX_FAILED_LOGINS: i64 = 10;
/// Failures from one address, any emails, that lock the address.
pub const MAX_FAILED_LOGINS_PER_ADDRESS: i64 = 100;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Credentials)]
struct LoginBody {
    email: String,
    password: String,
}

/// The user (if any) and the seconds until both throttles are open (0: open now).
static FIND_USER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT u.id, u.household_id, u.password_hash, u.role, {locked} \
         FROM (SELECT 1) AS one \
         LEFT JOIN users u ON u.email = :email \
         LEFT JOIN login_throttles pair ON pair.id = :pair_key \
         LEFT JOIN login_throttles address ON address.id = :address_key",
        locked = throttle::locked_for(&["pair", "address"]),
    )
});

/// Clears this email and address's failures (not the address's own: a guesser with one account of
/// their own cannot reset it), upgrades the stored hash when its parameters are old, and stores
/// the session's refresh token.
const RECORD_SUCCESS: &str = "\
WITH cleared AS (
    DELETE FROM login_throttles WHERE id = :pair_key
), reset AS (
    UPDATE users SET password_hash = coalesce(:new_password_hash, password_hash)
    WHERE id = :user_id
    RETURNING id
)
INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, session_expires_at)
SELECT :token_id, reset.id, :family_id, :token_hash, :expires_at, :session_expires_at FROM reset";

const INVALID_CREDENTIALS: ApiError = ApiError::Unauthorized("The email or password is incorrect.");

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let body: LoginBody = json_body(&request)?;
    let mut fields = Fields::default();
    let email = fields.check("email", Email::parse(&body.email));
    // Any password is checked (a short one simply fails): the policy applies when choosing one.
    let password = Password::parse(&body.password).ok();
    fields.finish()?;
    let Some(email) = email else {
        return Err(INVALID_CREDENTIALS);
    };

    let keys = Throttles::of(&email, &shared::http::source_ip(&request));
    let mut params = keys.params();
    params.push(param("email", &email));
    let rows = app.db.execute(&FIND_USER, params).await?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::Internal("the login lookup answered no row".to_owned()))?;
    throttle::refuse_while_locked(row.get(4)?)?;
    let user: Option<UserId> = row.get(0)?;
    let user = match user {
        Some(id) => Some((
            id,
            row.get::<HouseholdId>(1)?,
            row.get::<String>(2)?,
            row.get::<Role>(3)?,
        )),
        None => None,
    };

    // The same argon2 work, and below the same calls, whether or not the user exists.
    let stored_hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.to_owned(), |u| u.2.clone());
    let candidate = password.clone();
    let matches = off_executor(move || candidate.is_some_and(|p| verify_password(&p, &stored_hash))).await?;

    let (user_id, household, stored_hash, role) = match user {
        Some(user) if matches => user,
        _ => {
            let params = throttle::failure_params(&keys.pair, Some(&keys.address));
            app.db.execute(throttle::RECORD_FAILURE, params).await?;
            return Err(INVALID_CREDENTIALS);
        }
    };

    let new_hash = match password.filter(|_| needs_rehash(&stored_hash)) {
        Some(password) => Some(
            off_executor(move || hash_password(&password))
                .await?
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let now = Utc::now();
    let family = TokenFamilyId::new();
    let refresh = NewRefreshToken::in_family(family, now);
    let mut params = vec![
        param("user_id", &user_id),
        param("new_password_hash", &new_hash),
        param("pair_key", &keys.pair.key),
    ];
    params.extend(refresh.params());
    app.db.execute(RECORD_SUCCESS, params).await?;
    let signer = app.signer().await?;
    let session = session(signer, (user_id, household, role), family, &refresh.token, now)?;
    Ok(Reply::ok(&session))
}

/// What failed logins are counted against.
struct Throttles {
    /// This email from this source address.
    pair: Counter,
    /// This source address, any email.
    address: Counter,
}

impl Throttles {
    fn of(email: &Email, source: &str) -> Self {
        Self {
            pair: Counter::of(&["pair", email.as_str(), source], MAX_FAILED_LOGINS),
            address: Counter::of(&["address", source], MAX_FAILED_LOGINS_PER_ADDRESS),
        }
    }

    fn params(&self) -> Vec<aws_sdk_rdsdata::types::SqlParameter> {
        vec![
            param("pair_key", &self.pair.key),
            param("address_key", &self.address.key),
        ]
    }
}
