//! `PATCH /household/members/{user_id}` {role}: make a member an owner or an owner a member.
//! Owners only (by the role stored now); the household's last owner cannot be demoted (409); an
//! unknown, foreign or malformed id is 404; `If-Match` against the member's version. One Data API
//! call, which locks the household's owners so two owners demoting each other at once cannot leave
//! it with none.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::{Deserialize, Serialize};
use shared::db::param;
use shared::domain::{Role, SqlEnum, UserId};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};
use shared::version::{self, Precondition, Version};

use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("PATCH", "/household/members/{user_id}");

pub fn doc() -> Doc {
    Doc::new(ROUTE, "Change a member's role (owners)")
        .body::<RoleBody>(json!({"role": "owner"}))
        .answers::<Member>(
            200,
            "The member with their new role (a demoted owner's pending invitations are revoked).",
        )
        .etag()
        .if_match()
        .problem(403, "Only an owner of the household may do this.")
        .problem(409, "The household would be left without an owner.")
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RoleChange)]
struct RoleBody {
    #[schema(value_type = shared::domain::Role)]
    role: String,
}

/// The member as the API shows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MemberWithRole)]
struct Member {
    user_id: UserId,
    email: String,
    display_name: String,
    role: Role,
    joined_at: String,
}

/// The caller's stored role, the target's current role, the number of owners (locked), then the
/// member as changed (none: not allowed, the last owner, or `If-Match` failed). A member who is
/// no longer an owner loses the invitations they made that are still pending: an owner-role
/// invitation from a demoted owner would otherwise still make an owner.
static CHANGE_ROLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         owners AS (SELECT id FROM users WHERE household_id = :household_id AND role = 'owner' \
                      AND left_at IS NULL FOR UPDATE), \
         target AS (SELECT role FROM users WHERE id = :member_id AND household_id = :household_id \
                      AND left_at IS NULL), \
         changed AS ( \
           UPDATE users u SET role = :role, {bump} \
           WHERE u.id = :member_id AND u.household_id = :household_id AND u.left_at IS NULL \
             AND (SELECT role FROM me) = 'owner' AND {matches} \
             AND NOT (u.role = 'owner' AND :role <> 'owner' AND (SELECT count(*) FROM owners) <= 1) \
           RETURNING u.*), \
         revoked AS ( \
           DELETE FROM household_invitations i USING changed c \
           WHERE i.household_id = :household_id AND i.invited_by = c.id AND c.role <> 'owner' \
             AND i.accepted_at IS NULL \
           RETURNING i.id) \
         , answer AS (SELECT (SELECT role FROM caller), (SELECT role FROM target), (SELECT count(*) FROM owners), \
                c.id, c.email, c.display_name, c.role, \
                to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), {version} \
         FROM (SELECT 1) AS one LEFT JOIN changed c ON true) {ANSWER}",
        bump = version::BUMP,
        matches = version::matches("u"),
        version = version::version("c"),
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    // A malformed id names no member of this household: 404, like an unknown or foreign one.
    let member = ROUTE.id(&request, "user_id", UserId::parse)?;
    let body: RoleBody = json_body(&request)?;
    let mut fields = Fields::default();
    let role = fields.check("role", Role::parse(&body.role));
    fields.finish()?;
    let Some(role) = role else {
        return Err(ApiError::Internal("validated role missing".to_owned()));
    };
    let params = access::caller(
        &claims,
        [
            param("member_id", &member),
            param("role", &role),
            Precondition::of(&request).param(),
        ],
    );
    let rows = access::answer(&app.db.execute(&CHANGE_ROLE, params).await?)?;
    let row = access::owner_row(&rows, "Only an owner of the household can change roles.")?;
    let current: Option<Role> = row.get(1)?;
    let owners: i64 = row.get(2)?;
    let changed: Option<UserId> = row.get(3)?;
    let last_owner = current == Some(Role::Owner) && role == Role::Member && owners <= 1;
    let last_owner = last_owner.then(|| ApiError::Conflict(access::LAST_OWNER.to_owned()));
    access::written(current.is_some(), last_owner, changed.is_some())?;
    let member = Member {
        user_id: row.get(3)?,
        email: row.get(4)?,
        display_name: row.get(5)?,
        role: row.get(6)?,
        joined_at: row.get(7)?,
    };
    let version: Version = row.get(8)?;
    Ok(Reply::ok(&member).with_version(version))
}
