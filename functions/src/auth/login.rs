//! `POST /auth/login`: exchange email and password for a session. At most two Data API calls: read
//! the user, then either record the failure or reset the failure count and store the new token.
//!
//! An unknown email and a wrong password answer the same 401 after the same hashing work. Ten
//! failures in a row lock the account for 15 minutes (429 with `Retry-After`).

use chrono::Utc;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::auth::{DUMMY_HASH, Password, hash_password, needs_rehash, verify_password};
use shared::db::param;
use shared::domain::{Email, HouseholdId, Role, TokenFamilyId, UserId};
use shared::http::{ApiError, Fields, Reply, Route, json_body};

use super::{NewRefreshToken, off_executor, session};
use crate::app::App;
use crate::http::respond as glue;
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
            "Too many failed attempts for this email; wait `Retry-After` seconds.",
        )
}

/// Failures in a row that lock an account.
pub const MAX_FAILED_LOGINS: i64 = 10;
/// How long a locked account stays locked.
pub const LOCK_SECONDS: i64 = 15 * 60;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Credentials)]
struct LoginBody {
    email: String,
    password: String,
}

const FIND_USER: &str = "\
SELECT id, household_id, password_hash, role,
       coalesce(ceil(extract(epoch FROM locked_until - now())), 0)::bigint AS locked_for_seconds
FROM users WHERE email = :email";

/// Counts a failure; the tenth in a row locks the account and starts the count again.
const RECORD_FAILURE: &str = "\
UPDATE users SET
    failed_login_count = CASE WHEN failed_login_count + 1 >= :max_failures THEN 0 ELSE failed_login_count + 1 END,
    locked_until = CASE WHEN failed_login_count + 1 >= :max_failures
                        THEN now() + :lock_seconds * interval '1 second' ELSE locked_until END
WHERE id = :user_id";

/// Clears the failure count, upgrades the stored hash when its parameters are old, and stores the
/// session's refresh token.
const RECORD_SUCCESS: &str = "\
WITH reset AS (
    UPDATE users SET failed_login_count = 0, locked_until = NULL,
                     password_hash = coalesce(:new_password_hash, password_hash)
    WHERE id = :user_id
    RETURNING id
)
INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, session_expires_at)
SELECT :token_id, reset.id, :family_id, :token_hash, :expires_at, :session_expires_at FROM reset";

const INVALID_CREDENTIALS: ApiError = ApiError::Unauthorized("The email or password is incorrect.");

pub async fn respond(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    glue(app, ROUTE, request, handle).await
}

async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let body: LoginBody = json_body(&request)?;
    let mut fields = Fields::default();
    let email = fields.check("email", Email::parse(&body.email));
    // Any password is checked (a short one simply fails): the policy applies when choosing one.
    let password = Password::parse(&body.password).ok();
    fields.finish()?;
    let Some(email) = email else {
        return Err(INVALID_CREDENTIALS);
    };

    let rows = app.db.execute(FIND_USER, vec![param("email", &email)]).await?;
    let user = rows.first().map(|row| -> Result<_, ApiError> {
        Ok((
            row.get::<UserId>(0)?,
            row.get::<HouseholdId>(1)?,
            row.get::<String>(2)?,
            row.get::<Role>(3)?,
            row.get::<i64>(4)?,
        ))
    });
    let user = user.transpose()?;

    // The same argon2 work whether or not the user exists.
    let stored_hash = user.as_ref().map_or_else(|| DUMMY_HASH.clone(), |u| u.2.clone());
    let candidate = password.clone();
    let matches = off_executor(move || candidate.is_some_and(|p| verify_password(&p, &stored_hash))).await?;

    let Some((user_id, household, stored_hash, role, locked_for)) = user else {
        return Err(INVALID_CREDENTIALS);
    };
    if locked_for > 0 {
        return Err(ApiError::TooManyRequests {
            retry_after_seconds: locked_for.unsigned_abs(),
        });
    }
    if !matches {
        let params = vec![
            param("user_id", &user_id),
            param("max_failures", &MAX_FAILED_LOGINS),
            param("lock_seconds", &LOCK_SECONDS),
        ];
        app.db.execute(RECORD_FAILURE, params).await?;
        return Err(INVALID_CREDENTIALS);
    }

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
    let mut params = vec![param("user_id", &user_id), param("new_password_hash", &new_hash)];
    params.extend(refresh.params());
    app.db.execute(RECORD_SUCCESS, params).await?;
    let signer = app.signer().await?;
    let session = session(signer, (user_id, household, role), family, &refresh.token, now)?;
    Ok(Reply::ok(&session))
}
