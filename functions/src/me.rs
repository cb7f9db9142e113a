//! `GET /me`: who the access token belongs to. One Data API call.

use lambda_http::Request;
use serde::Serialize;
use shared::db::param;
use shared::domain::{Email, HouseholdId, Name, Role, UserId};
use shared::http::{ApiError, Reply, Route, bearer};

use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/me");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Who is signed in").answers::<Me>(200, "The signed-in user and their household.")
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Me)]
struct Me {
    user_id: UserId,
    email: Email,
    display_name: Name,
    household_id: HouseholdId,
    role: Role,
}

/// The caller, while their session lives (see [`crate::live_session_sql`]).
const FIND_ME: &str = concat!(
    "SELECT id, email, display_name, household_id, role FROM users \
     WHERE id = :user_id AND household_id = :household_id AND ",
    crate::live_session_sql!()
);

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let params = vec![
        param("user_id", &claims.sub),
        param("household_id", &claims.hid),
        param("session_id", &claims.sid),
    ];
    let rows = app.db.execute(FIND_ME, params).await?;
    // A valid token whose user is gone, or whose session ended, no longer identifies anyone.
    let row = rows.first().ok_or(ApiError::Unauthorized(
        "The access token's session has ended or its user no longer exists.",
    ))?;
    Ok(Reply::ok(&Me {
        user_id: row.get(0)?,
        email: row.get(1)?,
        display_name: row.get(2)?,
        household_id: row.get(3)?,
        role: row.get(4)?,
    }))
}
