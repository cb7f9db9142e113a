//! `POST /auth/password`: change your password. Every other session of yours ends (their refresh
//! and access tokens stop working); this one goes on. Two Data API calls: read the stored hash
//! (argon2 runs between them, in Rust), then store the new one and end the other sessions, or
//! count the wrong current password: ten within 15 minutes lock password changes for the account
//! for 15 minutes (429), so a stolen session cannot guess the password (see [`super::throttle`]).

use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;
use shared::auth::{Password, hash_password, verify_password};
use shared::db::param;
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};

use std::sync::LazyLock;

use super::off_executor;
use super::throttle::{self, Counter};
use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("POST", "/auth/password");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Change your password; your other sessions end")
        .unkeyed()
        .body::<PasswordChange>(
            json!({"current_password": "correct horse battery", "new_password": "a new good passphrase"}),
        )
        .answers_nothing(204, "Changed; every other session of yours has ended.")
        .problem(
            409,
            "The password was changed by another request meanwhile; try again.",
        )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    /// 12–256 characters.
    new_password: String,
}

/// Wrong current passwords for one account that lock its password changes.
pub const MAX_WRONG_PASSWORDS: i64 = 10;

/// The caller's stored hash, while their session lives, and how long password changes stay locked.
static FIND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT u.password_hash, {locked} FROM users u \
         LEFT JOIN login_throttles account ON account.id = :account_key \
         WHERE u.id = :user_id AND u.household_id = :household_id AND u.left_at IS NULL AND {live}",
        locked = throttle::locked_for(&["account"]),
        live = crate::live_session_sql!(),
    )
});

/// The new hash, only over the one just verified (a concurrent change wins, this one answers 409),
/// and every other session of the user ended.
const CHANGE: &str = "\
WITH changed AS (
    UPDATE users SET password_hash = :new_hash
    WHERE id = :user_id AND household_id = :household_id AND password_hash = :old_hash
    RETURNING id
), others AS (
    UPDATE refresh_tokens t SET revoked_at = now()
    FROM changed
    WHERE t.user_id = changed.id AND t.family_id <> :session_id AND t.revoked_at IS NULL
    RETURNING t.id
)
SELECT count(*) FROM changed";

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let body: PasswordChange = json_body(&request)?;
    let mut fields = Fields::default();
    let new_password = fields.check("new_password", Password::parse(&body.new_password));
    fields.finish()?;
    let (Some(new_password), Ok(current)) = (new_password, Password::parse(&body.current_password)) else {
        return Err(wrong_password());
    };
    let who = [
        param("user_id", &claims.sub),
        param("household_id", &claims.hid),
        param("session_id", &claims.sid),
    ];
    let counter = Counter::of(&["password", &claims.sub.to_string()], MAX_WRONG_PASSWORDS);
    let mut params = who.to_vec();
    params.push(param("account_key", &counter.key));
    let rows = app.db.execute(&FIND, params).await?;
    let row = rows
        .first()
        .ok_or(ApiError::Unauthorized("Your session has ended; log in again."))?;
    throttle::refuse_while_locked(row.get(1)?)?;
    let old_hash: String = row.get(0)?;
    let stored = old_hash.clone();
    let (matches, new_hash) = off_executor(move || {
        let matches = verify_password(&current, &stored);
        (matches, matches.then(|| hash_password(&new_password)))
    })
    .await?;
    let new_hash = match (matches, new_hash) {
        (true, Some(hash)) => hash.map_err(|e| ApiError::Internal(e.to_string()))?,
        _ => {
            let params = throttle::failure_params(&counter, None);
            app.db.execute(throttle::RECORD_FAILURE, params).await?;
            return Err(wrong_password());
        }
    };
    let mut params = who.to_vec();
    params.extend([param("new_hash", &new_hash), param("old_hash", &old_hash)]);
    let rows = app.db.execute(CHANGE, params).await?;
    let changed: i64 = rows.first().map_or(Ok(0), |row| row.get(0))?;
    if changed == 0 {
        return Err(ApiError::Conflict(
            "Your password was changed meanwhile; try again.".to_owned(),
        ));
    }
    Ok(Reply::no_content())
}

fn wrong_password() -> ApiError {
    ApiError::invalid("current_password", "is not your password")
}
