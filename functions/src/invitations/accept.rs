//! `POST /invitations/accept` {invitation_token, delete_current_household}: a signed-in account
//! joins the household that invited its email, leaving its own, and gets a session there (the
//! way an invitee who has no account yet joins is `POST /auth/register`).
//!
//! Leaving is a [departure](crate::household::departure) like any: the account's row in the old
//! household goes (its tokens and every session end; the old household's members see it leave),
//! and its transactions there keep its name. The account comes back as a new member of the
//! inviting household (a new user id, the same email, password and name) with the invited role.
//! What happens to the household left:
//! - it has other members: it stays with all its data; its last owner cannot leave (409);
//! - the caller is its only member: it is deleted with everything in it, and only when the request
//!   says so (`delete_current_household: true`; else 409 says what would be lost).
//!
//! One Data API call. Safe to retry: the invitation joins once, and a retry after it did answers
//! 401 (the old account's tokens ended); logging in then lands in the new household.

use std::sync::LazyLock;

use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;
use shared::auth::SecretToken;
use shared::db::param;
use shared::domain::{HouseholdId, Role, TokenFamilyId, UserId};
use shared::http::{ApiError, Reply, Route, bearer, json_body};

use crate::access;
use crate::app::App;
use crate::auth::{NewRefreshToken, Session, UNUSABLE_INVITATION, session};
use crate::openapi::Doc;

pub const ROUTE: Route = Route::new("POST", "/invitations/accept");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Join the household that invited you, leaving your own; answers a session there",
    )
    .unkeyed()
    .body::<AcceptBody>(json!({"invitation_token": "…", "delete_current_household": false}))
    .answers::<Session>(
        201,
        "Joined: a session as the new member (a new `user_id`). Every session of the account you were signed in with has ended.",
    )
    .problem(
        409,
        "You are already a member of that household; or you are your household's last owner and others stay (make one of them an owner first); or you are its only member and did not confirm its deletion.",
    )
}

/// The request body as sent.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InvitationAcceptance)]
struct AcceptBody {
    /// The token the inviting owner passed on.
    invitation_token: String,
    /// Required (`true`) when you are the only member of your household: joining deletes it
    /// with all its accounts, transactions and budgets. Ignored otherwise.
    #[serde(default)]
    delete_current_household: bool,
}

/// The caller (a live session); both households' rows locked first, in id order (every write
/// locks its household first, so two writes cannot wait on each other in a circle); the caller's
/// household's members (locked, as for role changes) and the invitation; then, when they may go, the departure, the household's deletion when they
/// were alone, the invitation used, the new member and the session. Answers the caller's stored
/// role, the invitation's household, the members and owners counted, then the new member's
/// household and role (NULL when nothing happened).
static ACCEPT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH me AS ( \
           SELECT u.role, u.email, u.password_hash, u.display_name FROM users u \
           WHERE u.id = :user_id AND u.household_id = :household_id AND u.left_at IS NULL \
             AND {live_session}), \
         inviting AS (SELECT household_id FROM household_invitations WHERE token_hash = :invitation_hash), \
         both_households AS ( \
           SELECT id FROM households \
           WHERE EXISTS (SELECT 1 FROM me) \
             AND (id = :household_id OR id IN (SELECT household_id FROM inviting)) \
           ORDER BY id FOR NO KEY UPDATE), \
         locked AS (SELECT count(*) AS n FROM both_households), \
         members AS (SELECT u.id, u.role FROM users u \
                     WHERE u.household_id = :household_id AND u.left_at IS NULL \
                       AND (SELECT n FROM locked) > 0 FOR UPDATE OF u), \
         invitation AS ( \
           SELECT i.id, i.household_id FROM household_invitations i, me \
           WHERE i.token_hash = :invitation_hash AND i.email = me.email AND i.accepted_at IS NULL \
             AND i.expires_at > now() AND (SELECT n FROM locked) > 0 FOR UPDATE OF i), \
         counted AS (SELECT count(*) AS members, count(*) FILTER (WHERE role = 'owner') AS owners, \
                            count(*) FILTER (WHERE id = :user_id) AS me \
                     FROM members), \
         alone AS (SELECT members = 1 AND me = 1 AS yes FROM counted), \
         allowed AS ( \
           SELECT me.display_name FROM me, invitation i, counted c \
           WHERE i.household_id <> :household_id AND c.me = 1 \
             AND CASE WHEN c.members = 1 THEN :delete_household::boolean \
                      ELSE NOT (me.role = 'owner' AND c.owners <= 1) END), \
         dissolved AS ( \
           DELETE FROM households WHERE id = :household_id AND (SELECT yes FROM alone) \
             AND EXISTS (SELECT 1 FROM allowed) \
           RETURNING id), \
         {departure}, \
         joined AS ( \
           UPDATE household_invitations i SET accepted_at = now(), updated_at = now() \
           FROM invitation v, me \
           WHERE i.id = v.id AND EXISTS (SELECT 1 FROM gone) \
           RETURNING i.household_id, i.role, me.email, me.password_hash, me.display_name{member_and_session} \
         SELECT (SELECT role FROM me), (SELECT household_id FROM invitation), \
                (SELECT members FROM counted), (SELECT owners FROM counted), \
                joined_member.household_id, joined_member.role \
         FROM (SELECT 1) AS one LEFT JOIN ( \
           SELECT member.household_id, member.role FROM member \
           JOIN session ON session.user_id = member.id) AS joined_member ON true",
        live_session = crate::live_session_sql!(),
        departure = crate::household::departure::departure(Some("(SELECT yes FROM alone)")),
        member_and_session = crate::member_and_session!(
            ":new_user_id",
            "joined.email",
            "joined.password_hash",
            "joined.display_name"
        ),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let body: AcceptBody = json_body(&request)?;
    let invitation = SecretToken::parse(&body.invitation_token)
        .map_err(|_| ApiError::invalid("invitation_token", UNUSABLE_INVITATION))?;
    let now = Utc::now();
    let new_user = UserId::new();
    let family = TokenFamilyId::new();
    let refresh = NewRefreshToken::in_family(family, now);
    let mut params = vec![
        param("user_id", &claims.sub),
        param("member_id", &claims.sub),
        param("household_id", &claims.hid),
        param("session_id", &claims.sid),
        param("invitation_hash", &invitation.hash()),
        param("delete_household", &body.delete_current_household),
        param("former_id", &UserId::new()),
        param("new_user_id", &new_user),
    ];
    params.extend(refresh.params());
    let rows = app.db.execute(&ACCEPT, params).await?;
    let row = access::one_row(&rows)?;
    let role_left = access::member(row.get(0)?)?;
    let Some(inviting) = row.get::<Option<HouseholdId>>(1)? else {
        return Err(ApiError::invalid("invitation_token", UNUSABLE_INVITATION));
    };
    let members: i64 = row.get(2)?;
    let owners: i64 = row.get(3)?;
    let joined: Option<HouseholdId> = row.get(4)?;
    let Some(household) = joined else {
        return Err(refusal(inviting == claims.hid, role_left, members, owners));
    };
    let role: Role = row.get(5)?;
    let signer = app.signer().await?;
    let answer = session(signer, (new_user, household, role), family, &refresh.token, now)?;
    Ok(Reply::created(&answer))
}

/// Why a usable invitation joined nothing.
fn refusal(already_there: bool, role: Role, members: i64, owners: i64) -> ApiError {
    let message = if already_there {
        "You are already a member of this household."
    } else if members == 1 {
        "You are the only member of your household: joining another deletes it with all its \
         accounts, transactions and budgets. Send \"delete_current_household\": true to confirm."
    } else if role == Role::Owner && owners <= 1 {
        "You are your household's last owner and others stay in it; make one of them an owner \
         before you leave."
    } else {
        return ApiError::Internal(format!(
            "an allowed acceptance joined nothing ({members} members, {owners} owners)"
        ));
    };
    ApiError::Conflict(message.to_owned())
}
