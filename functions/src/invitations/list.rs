//! `GET /household/invitations`: the household's pending invitations (not accepted, not
//! expired), newest first, without their tokens. Owners only. One Data API call.

use std::sync::LazyLock;

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, Invitation, OWNERS_ONLY};
use crate::access::{self, ME};
use crate::app::App;
use crate::http::respond as glue;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("GET", "/household/invitations");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Open invitations (owners)")
        .answers::<Invitations>(200, "The invitations not yet used, revoked or expired.")
        .problem(403, "Only an owner of the household may do this.")
}

/// The caller's stored role on every row (one row with no invitation when there are none, or
/// when the caller is not an owner).
static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM me), {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN household_invitations i \
           ON i.household_id = :household_id AND i.accepted_at IS NULL AND i.expires_at > now() \
              AND (SELECT role FROM me) = 'owner' \
         ORDER BY i.created_at DESC, i.id DESC"
    )
});

#[derive(Serialize, utoipa::ToSchema)]
struct Invitations {
    invitations: Vec<Invitation>,
}

pub async fn respond(app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
    glue(app, ROUTE, request, handle).await
}

async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let params = access::caller(&claims, []);
    let rows = app.db.execute(&LIST, params).await?;
    access::owner_row(&rows, OWNERS_ONLY)?;
    let mut invitations = Vec::new();
    for row in rows.iter() {
        let id: Option<String> = row.get(1)?;
        if id.is_some() {
            invitations.push(Invitation::from_row(&row, 1)?);
        }
    }
    Ok(Reply::ok(&Invitations { invitations }))
}
