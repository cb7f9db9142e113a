//! `POST /household/invitations` {email, role}: invite someone into the caller's household.
//! 201 with the token (shown this once), whether or not the email has an account elsewhere (the
//! answer tells nobody who has one; an existing account joins with `POST /invitations/accept`);
//! 409 when the email is already a member of this household or the household has
//! [`MAX_PENDING`](super::MAX_PENDING) pending invitations. One Data API call.

use std::sync::LazyLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::auth::SecretToken;
use shared::db::param;
use shared::domain::{Email, InvitationId, Role, SqlEnum};
use shared::http::{ApiError, Fields, Reply, Route, bearer, json_body};

use super::{COLUMNS, Invitation, MAX_PENDING, OWNERS_ONLY, VALID_DAYS};
use crate::access::{self, ME};
use crate::app::App;
use crate::idempotency::ANSWER;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("POST", "/household/invitations");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Invite someone by email (owners); the token is shown only now",
    )
    .body::<InviteBody>(json!({"email": "bob@example.com", "role": "member"}))
    .answers::<Invitation>(
            201,
            "The invitation, with its `invitation_token` to pass on. Shown only now: a retry with the same `Idempotency-Key` answers it as `null` (the token is never kept); revoke and invite again if it was lost.",
        )
    .problem(403, "Only an owner of the household may do this.")
    .problem(
        409,
        "This person is already a member of the household, or too many invitations are open.",
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewInvitation)]
struct InviteBody {
    #[schema(value_type = shared::domain::Email)]
    email: String,
    #[schema(value_type = shared::domain::Role)]
    role: String,
}

/// The caller's stored role, whether the email is already a member here, the pending count, then
/// the new invitation (none unless the caller is an owner and neither limit applies). An account
/// of another household is invited like anyone: saying so would tell any owner who has one.
static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {ME}, \
         taken AS (SELECT EXISTS (SELECT 1 FROM users WHERE email = :email \
                                 AND household_id = :household_id AND left_at IS NULL) AS yes), \
         pending AS (SELECT count(*) AS n FROM household_invitations \
                     WHERE household_id = :household_id AND accepted_at IS NULL AND expires_at > now()), \
         created AS ( \
           INSERT INTO household_invitations (id, household_id, email, role, token_hash, invited_by, expires_at) \
           SELECT :id, :household_id, :email, :role, :token_hash, :user_id, now() + :days * interval '1 day' \
           WHERE (SELECT role FROM me) = 'owner' AND NOT (SELECT yes FROM taken) \
             AND (SELECT n FROM pending) < {MAX_PENDING} \
           RETURNING *) \
         , answer AS (SELECT (SELECT role FROM caller), (SELECT yes FROM taken), (SELECT n FROM pending), {COLUMNS} \
         FROM (SELECT 1) AS one LEFT JOIN created i ON true) {ANSWER}"
    )
});

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let claims = bearer(&request, &app.tokens)?;
    let body: InviteBody = json_body(&request)?;
    let mut fields = Fields::default();
    let email = fields.check("email", Email::parse(&body.email));
    let role = fields.check("role", Role::parse(&body.role));
    fields.finish()?;
    let (Some(email), Some(role)) = (email, role) else {
        return Err(ApiError::validated_missing());
    };
    let token = SecretToken::generate();
    let params = access::caller(
        &claims,
        [
            param("id", &InvitationId::new()),
            param("email", &email),
            param("role", &role),
            param("token_hash", &token.hash()),
            param("days", &VALID_DAYS),
        ],
    );
    let rows = access::answer(&app.db.execute(&CREATE, params).await?)?;
    let row = access::owner_row(&rows, OWNERS_ONLY)?;
    let taken: bool = row.get(1)?;
    if taken {
        return Err(ApiError::Conflict(
            "This person is already a member of the household.".to_owned(),
        ));
    }
    let pending: i64 = row.get(2)?;
    let created: Option<String> = row.get(3)?;
    if created.is_none() {
        return Err(ApiError::Conflict(format!(
            "The household already has {pending} pending invitations (at most {MAX_PENDING}); revoke some first."
        )));
    }
    let mut invitation = Invitation::from_row(&row, 3)?;
    invitation.invitation_token = Some(token.secret().to_owned());
    Ok(Reply::created(&invitation).with_secrets(&["invitation_token"]))
}
