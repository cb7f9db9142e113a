//! `DELETE /household/members/{user_id}`: an owner removes any member, or a member leaves. The
//! household's last owner cannot go (409). The member's account goes with its sessions, pending
//! invitations and idempotency keys in the same statement, and their access tokens stop working at
//! once (every endpoint checks membership in its own query). Their transactions keep who recorded
//! them: a former member's record (their name, a placeholder email, no password) takes their
//! place as the recorder. `If-Match` against the member's version. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use shared::db::param;
use shared::domain::{Role, UserId};
use shared::http::{ApiError, Reply, Route, bearer};
use shared::version::{self, Precondition};

use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("DELETE", "/household/members/{user_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Remove a member (owners), or leave the household yourself")
        .answers_nothing(204, "Removed.")
        .if_match()
        .problem(403, "Only an owner may remove someone else.")
        .problem(
            409,
            "The household's last owner cannot leave; make another member an owner first.",
        )
}

/// The caller's stored role, the target's, the number of owners (locked, as for role changes),
/// and whether the target went ([`super::departure`]).
static REMOVE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         owners AS (SELECT id FROM users WHERE household_id = :household_id AND role = 'owner' \
                      AND left_at IS NULL FOR UPDATE), \
         target AS (SELECT role FROM users WHERE id = :member_id AND household_id = :household_id \
                      AND left_at IS NULL), \
         allowed AS ( \
           SELECT u.display_name FROM users u \
           WHERE u.id = :member_id AND u.household_id = :household_id AND u.left_at IS NULL \
             AND EXISTS (SELECT 1 FROM me) AND ((SELECT role FROM me) = 'owner' OR u.id = :user_id) \
             AND NOT (u.role = 'owner' AND (SELECT count(*) FROM owners) <= 1) AND {matches}), \
         {departure} \
         , answer AS (SELECT (SELECT role FROM caller), (SELECT role FROM target), (SELECT count(*) FROM owners), \
                EXISTS (SELECT 1 FROM gone)) {ANSWER}",
        matches = version::matches("u"),
        departure = super::departure::departure(None),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let member = ROUTE.id(&request, "user_id", UserId::parse)?;
    let params = access::caller(
        &claims,
        [
            param("member_id", &member),
            param("former_id", &UserId::new()),
            Precondition::of(&request).param(),
        ],
    );
    let rows = access::answer(&app.db.execute(&REMOVE, params).await?)?;
    let (row, caller) = access::member_row(&rows)?;
    if caller == Role::Member && member != claims.sub {
        return Err(ApiError::Forbidden(
            "Only an owner can remove another member; you may leave yourself.",
        ));
    }
    let target: Option<Role> = row.get(1)?;
    let owners: i64 = row.get(2)?;
    let gone: bool = row.get(3)?;
    // The statement removes no last owner, so `gone` and this refusal never meet.
    let last_owner = (target == Some(Role::Owner) && owners <= 1 && !gone)
        .then(|| ApiError::Conflict(access::LAST_OWNER.to_owned()));
    access::written(target.is_some(), last_owner, gone)?;
    Ok(Reply::no_content())
}
