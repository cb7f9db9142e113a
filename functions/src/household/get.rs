//! `GET /household`: the caller's household and its members (with `?last_knowledge_of_server=N`,
//! only the members changed since N, and those who left). One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, Household};
use crate::app::App;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/household");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Your household and its members")
        .about("With `last_knowledge_of_server`, `members` holds only the members who joined or changed since, and a tombstone (`user_id`, `deleted: true`) for each who left.")
        .delta()
        .answers::<super::Household>(200, "The household.")
        .etag()
}

/// The household, only while the caller is still one of its members and their session lives.
static FIND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {columns} FROM households h \
         WHERE h.id = :household_id \
           AND EXISTS (SELECT 1 FROM users me WHERE me.id = :user_id AND me.household_id = h.id) \
           AND {live_session}",
        columns = *COLUMNS,
        live_session = crate::live_session_sql!(),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let since = crate::sync::since(&request)?;
    let params = vec![
        param("user_id", &claims.sub),
        param("household_id", &claims.hid),
        param("session_id", &claims.sid),
        crate::sync::param_since(since),
    ];
    let rows = app.db.execute(&FIND, params).await?;
    let row = rows.first().ok_or(ApiError::Unauthorized(
        "You are no longer a member of this household.",
    ))?;
    let household = Household::from_row(&row, 0)?;
    crate::sync::ahead(since, household.server_knowledge)?;
    let version = household.version;
    Ok(Reply::ok(&household).with_version(version))
}
