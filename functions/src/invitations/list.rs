//! `GET /household/invitations`: the household's pending invitations (not accepted, not
//! expired), newest first, without their tokens. Owners only. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Serialize;
use shared::http::{ApiError, Reply, Route, bearer};

use super::{COLUMNS, Invitation, OWNERS_ONLY};
use crate::access::{self, ME};
use crate::app::App;
use crate::openapi::Doc;
use crate::sync::{self, Change, Knowledge};

pub const ROUTE: Route = Route::new("GET", "/household/invitations");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Open invitations (owners)")
        .about("A delta read returns the open invitations changed since, and a tombstone for each one revoked or accepted since; one that expired is left for the client to drop at its `expires_at`.")
        .delta()
        .answers::<Invitations>(200, "The invitations not yet used, revoked or expired.")
        .problem(403, "Only an owner of the household may do this.")
}

/// The caller's stored role on every row (one row with no invitation when there are none, or
/// when the caller is not an owner).
static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME} \
         SELECT (SELECT role FROM caller), {sync}, \
                (SELECT json_agg(a.id ORDER BY a.knowledge, a.id)::text FROM household_invitations a \
                 WHERE a.household_id = :household_id AND a.accepted_at IS NOT NULL AND a.knowledge > :known::bigint), \
                {COLUMNS} FROM (SELECT 1) AS one \
         LEFT JOIN household_invitations i \
           ON i.household_id = :household_id AND i.accepted_at IS NULL AND i.expires_at > now() \
              AND (SELECT role FROM me) = 'owner' AND {changed} \
         ORDER BY i.created_at DESC, i.id DESC",
        sync = sync::columns("household_invitations"),
        changed = sync::changed("i"),
    )
});

#[derive(Serialize, utoipa::ToSchema)]
struct Invitations {
    invitations: Vec<Change<Invitation>>,
    server_knowledge: i64,
}

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let since = sync::since(&request)?;
    let params = access::caller(&claims, [sync::param_since(since)]);
    let rows = app.db.execute(&LIST, params).await?;
    let first = access::owner_row(&rows, OWNERS_ONLY)?;
    let mut knowledge = Knowledge::read(&first, 1, since)?;
    // An accepted invitation is no longer open: for the client it is gone, as a revoked one.
    let accepted: Option<String> = first.get(3)?;
    if let Some(json) = accepted {
        let ids: Vec<String> = serde_json::from_str(&json)
            .map_err(|error| ApiError::Internal(format!("accepted invitations: {error}")))?;
        knowledge.deleted.extend(ids);
    }
    let mut invitations = Vec::new();
    for row in rows.iter() {
        let id: Option<String> = row.get(4)?;
        if id.is_some() {
            invitations.push(Invitation::from_row(&row, 4)?);
        }
    }
    Ok(Reply::ok(&Invitations {
        invitations: knowledge.with_tombstones(invitations),
        server_knowledge: knowledge.server_knowledge,
    }))
}
