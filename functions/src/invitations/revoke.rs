//! `DELETE /household/invitations/{invitation_id}`: revoke a pending invitation (its token stops
//! working). Owners only; unknown, foreign and malformed ids are 404 alike; `If-Match` honoured.
//! One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::InvitationId;
use shared::http::{ApiError, Reply, Route, bearer};
use shared::version::{self, Precondition};

use super::OWNERS_ONLY;
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("DELETE", "/household/invitations/{invitation_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Revoke an invitation (owners)")
        .answers_nothing(204, "Revoked.")
        .if_match()
        .problem(403, "Only an owner of the household may do this.")
}

/// The caller's stored role, whether the invitation exists in the household, and whether it was
/// deleted (not if the caller is no owner or `If-Match` failed).
static REVOKE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         target AS (SELECT id FROM household_invitations WHERE id = :invitation_id AND household_id = :household_id), \
         revoked AS ( \
           DELETE FROM household_invitations i \
           WHERE i.id = :invitation_id AND i.household_id = :household_id \
             AND (SELECT role FROM me) = 'owner' AND {matches} \
           RETURNING i.id) \
         , answer AS (SELECT (SELECT role FROM caller), EXISTS (SELECT 1 FROM target), EXISTS (SELECT 1 FROM revoked)) {ANSWER}",
        matches = version::matches("i"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let invitation = ROUTE.id(&request, "invitation_id", InvitationId::parse)?;
    let params = access::caller(
        &claims,
        [
            param("invitation_id", &invitation),
            Precondition::of(&request).param(),
        ],
    );
    let rows = access::answer(&app.db.execute(&REVOKE, params).await?)?;
    let row = access::owner_row(&rows, OWNERS_ONLY)?;
    access::written(row.get(1)?, None, row.get(2)?)?;
    Ok(Reply::no_content())
}
