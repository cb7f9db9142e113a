//! `POST /auth/register`: create an account, in a new household or by invitation into an
//! existing one, and start a session. One Data API call.

use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;
use shared::auth::{Password, SecretToken, hash_password};
use shared::db::{DbError, param};
use shared::domain::{
    CategoryGroupId, CategoryId, CurrencyCode, Email, HouseholdId, Name, Role, TokenFamilyId, UserId,
};
use shared::http::{ApiError, Fields, Reply, Route, json_body};

use super::{NewRefreshToken, off_executor, session};
use crate::app::App;
use crate::openapi::Doc;
use serde_json::json;

pub const ROUTE: Route = Route::new("POST", "/auth/register");

pub fn doc() -> Doc {
    Doc::new(
        ROUTE,
        "Register a user, in a new household or joining one by invitation",
    )
    .public()
    .body::<RegisterBody>(
        json!({"email": "ada@example.com", "password": "correct horse battery", "display_name": "Ada"}),
    )
    .answers::<super::Session>(201, "Registered and signed in.")
    .problem(409, "An account with this email already exists.")
}

/// The request body as sent.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Registration)]
struct RegisterBody {
    #[schema(value_type = shared::domain::Email)]
    email: String,
    password: String,
    #[schema(value_type = shared::domain::Name)]
    display_name: String,
    #[schema(value_type = Option<shared::domain::Name>)]
    household_name: Option<String>,
    #[schema(value_type = Option<shared::domain::CurrencyCode>)]
    currency_code: Option<String>,
    invitation_token: Option<String>,
}

/// The request, parsed.
struct Register {
    email: Email,
    password: Password,
    display_name: Name,
    joining: Joining,
}

enum Joining {
    NewHousehold { name: Name, currency: CurrencyCode },
    Invitation(SecretToken),
}

impl Register {
    fn parse(body: RegisterBody) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let email = fields.check("email", Email::parse(&body.email));
        let password = fields.check("password", Password::parse(&body.password));
        let display_name = fields.check("display_name", Name::parse(&body.display_name));
        let household_name =
            fields.check_optional("household_name", body.household_name.as_deref().map(Name::parse));
        let currency = fields.check_optional(
            "currency_code",
            body.currency_code.as_deref().map(CurrencyCode::parse),
        );
        let invitation = fields.check_optional(
            "invitation_token",
            body.invitation_token.as_deref().map(SecretToken::parse),
        );
        if body.invitation_token.is_some() {
            let message = "cannot be given with an invitation_token: you join the inviting household";
            if body.household_name.is_some() {
                fields.reject("household_name", message);
            }
            if body.currency_code.is_some() {
                fields.reject("currency_code", message);
            }
        }
        fields.finish()?;
        match (
            email,
            password,
            display_name,
            household_name,
            currency,
            invitation,
        ) {
            (
                Some(email),
                Some(password),
                Some(display_name),
                Some(household_name),
                Some(currency),
                Some(invitation),
            ) => {
                let joining = match invitation {
                    Some(token) => Joining::Invitation(token),
                    None => Joining::NewHousehold {
                        name: household_name.unwrap_or_else(|| default_household_name(&display_name)),
                        currency: currency.unwrap_or_else(CurrencyCode::usd),
                    },
                };
                Ok(Self {
                    email,
                    password,
                    display_name,
                    joining,
                })
            }
            _ => Err(ApiError::Internal(
                "field checks passed but a value is missing".to_owned(),
            )),
        }
    }
}

fn default_household_name(owner: &Name) -> Name {
    let name: String = format!("{owner}'s household")
        .chars()
        .take(Name::MAX_LEN)
        .collect();
    Name::parse(&name).unwrap_or_else(|_| owner.clone())
}

/// What both registrations answer: the household joined and the role, once the member and their
/// session's first refresh token are in.
macro_rules! joined {
    () => {
        "
SELECT member.household_id, member.role FROM member JOIN session ON session.user_id = member.id"
    };
}

/// A new household with the user as its owner, and its starting category groups and categories
/// ([`DEFAULT_CATEGORIES`]; their ids, UUIDv7 like every id, come in `:default_ids`).
const REGISTER_NEW_HOUSEHOLD: &str = concat!(
    "WITH joined AS (
    INSERT INTO households (id, name, currency_code) VALUES (:household_id, :household_name, :currency_code)
    RETURNING id AS household_id, 'owner'::text AS role
), default_ids AS (
    SELECT string_to_array(:default_ids, ',')::uuid[] AS ids
), default_groups AS (
    INSERT INTO category_groups (id, household_id, name, sort_order)
    SELECT (SELECT ids FROM default_ids)[d.n], joined.household_id, d.name, d.n
    FROM joined, (VALUES (1, 'Bills'), (2, 'Everyday'), (3, 'Goals')) AS d (n, name)
    RETURNING id, household_id, name
), default_categories AS (
    INSERT INTO categories (id, household_id, category_group_id, name, sort_order)
    SELECT (SELECT ids FROM default_ids)[d.n], g.household_id, g.id, d.name, d.n
    FROM default_groups g JOIN (VALUES
        (4, 'Bills', 'Rent'), (5, 'Bills', 'Utilities'), (6, 'Bills', 'Phone'),
        (7, 'Everyday', 'Groceries'), (8, 'Everyday', 'Transport'), (9, 'Everyday', 'Eating out'),
        (10, 'Goals', 'Emergency fund'), (11, 'Goals', 'Vacation')
    ) AS d (n, group_name, name) ON d.group_name = g.name
    RETURNING id",
    crate::member_and_session!(":user_id", ":email", ":password_hash", ":display_name"),
    joined!()
);

/// What a new household starts with: groups, then their categories, as `REGISTER_NEW_HOUSEHOLD`
/// writes them (a test keeps the two in step).
pub const DEFAULT_CATEGORIES: &[(&str, &[&str])] = &[
    ("Bills", &["Rent", "Utilities", "Phone"]),
    ("Everyday", &["Groceries", "Transport", "Eating out"]),
    ("Goals", &["Emergency fund", "Vacation"]),
];

/// Ids for the default groups and categories, in the order the statement numbers them.
fn default_ids() -> String {
    let groups = DEFAULT_CATEGORIES
        .iter()
        .map(|_| CategoryGroupId::new().to_string());
    let categories = DEFAULT_CATEGORIES
        .iter()
        .flat_map(|(_, names)| names.iter())
        .map(|_| CategoryId::new().to_string());
    groups.chain(categories).collect::<Vec<_>>().join(",")
}

/// Consumes a valid invitation for this email and joins its household with the invited role; no
/// row comes back when the invitation is unknown, used, expired or for another email.
const REGISTER_BY_INVITATION: &str = concat!(
    "WITH joined AS (
    UPDATE household_invitations SET accepted_at = now(), updated_at = now()
    WHERE token_hash = :invitation_hash AND email = :email AND accepted_at IS NULL AND expires_at > now()
    RETURNING household_id, role",
    crate::member_and_session!(":user_id", ":email", ":password_hash", ":display_name"),
    joined!()
);

pub async fn handle(app: App, request: Request) -> Result<Reply, ApiError> {
    let input = Register::parse(json_body(&request)?)?;
    let password = input.password.clone();
    let password_hash = off_executor(move || hash_password(&password))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let now = Utc::now();
    let user = UserId::new();
    let family = TokenFamilyId::new();
    let refresh = NewRefreshToken::in_family(family, now);
    let mut params = vec![
        param("user_id", &user),
        param("email", &input.email),
        param("password_hash", &password_hash),
        param("display_name", &input.display_name),
    ];
    params.extend(refresh.params());
    let sql = match &input.joining {
        Joining::NewHousehold { name, currency } => {
            params.push(param("household_id", &HouseholdId::new()));
            params.push(param("household_name", name));
            params.push(param("currency_code", currency));
            params.push(param("default_ids", default_ids().as_str()));
            REGISTER_NEW_HOUSEHOLD
        }
        Joining::Invitation(token) => {
            params.push(param("invitation_hash", &token.hash()));
            REGISTER_BY_INVITATION
        }
    };
    let by_invitation = matches!(input.joining, Joining::Invitation(_));
    let rows = app.db.execute(sql, params).await.map_err(|error| match error {
        DbError::UniqueViolation { constraint } if constraint == "uq_users_email" => {
            ApiError::Conflict(if by_invitation {
                "An account with this email already exists; sign in with it and accept the \
                 invitation (POST /invitations/accept)."
                    .to_owned()
            } else {
                "An account with this email already exists.".to_owned()
            })
        }
        other => other.into(),
    })?;
    let Some(row) = rows.first() else {
        return Err(ApiError::invalid("invitation_token", super::UNUSABLE_INVITATION));
    };
    let household: HouseholdId = row.get(0)?;
    let role: Role = row.get(1)?;
    let signer = app.signer().await?;
    let session = session(signer, (user, household, role), family, &refresh.token, now)?;
    Ok(Reply::created(&session))
}
