//! The auth endpoints and `/me`, called in-process with real API Gateway events, through
//! data-api-local and real PostgreSQL. Each test also holds its endpoint to its Data API budget.

use chrono::{Duration, Utc};
use harness::TestApp;
use harness::app::{event, json_request, request};
use serde_json::{Value, json};
use shared::auth::{Claims, Password, TokenSigner, TokenVerifier, verify_password};
use shared::db::param;
use shared::domain::{HouseholdId, Role, UserId};
use shared::http::{Route, require_role};

fn registration(email: &str) -> Value {
    json!({ "email": email, "password": "correct horse battery", "display_name": "Ada" })
}

fn problem_type(body: &Value) -> &str {
    body["type"].as_str().unwrap_or_default()
}

fn field_errors(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_owned(),
                        e["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The body rules every JSON endpoint shares: 400 for malformed JSON, 415 unless the body is
/// JSON, 413 over 64 KiB.
async fn assert_body_rules(path: &str, send: impl AsyncFn(lambda_http::Request) -> harness::TestResponse) {
    let post = |content_type: &str, body: &str| {
        request(&event(
            "POST",
            path,
            &[("content-type", content_type)],
            Some(body),
        ))
    };
    let malformed = send(post("application/json", "{")).await;
    assert_eq!(
        (malformed.status, problem_type(&malformed.body)),
        (400, "/problems/malformed-request"),
        "{path}"
    );
    assert_eq!(
        send(post("text/plain", "{}")).await.status,
        415,
        "{path}: not JSON"
    );
    let untyped = send(request(&event("POST", path, &[], Some("{}")))).await;
    assert_eq!(untyped.status, 415, "{path}: no content type");
    let large = format!("{{\"refresh_token\": \"{}\"}}", "x".repeat(70_000));
    assert_eq!(
        send(post("application/json", &large)).await.status,
        413,
        "{path}: over 64 KiB"
    );
}

// --- register ---

#[tokio::test]
async fn register_creates_an_owner_in_a_new_household_in_one_call() {
    let app = TestApp::spawn().await.unwrap();
    app.reset_calls();
    let response = app
        .post_register(&json!({
            "email": "  Ada@Example.com ", "password": "correct horse battery", "display_name": "Ada",
            "household_name": "Lovelace home", "currency_code": "eur"
        }))
        .await;
    assert_eq!(response.status, 201, "{:?}", response.body);
    assert_eq!(app.calls(), 1, "register's budget is one Data API call");
    let body = &response.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["refresh_token"].as_str().unwrap().len(), 43);
    let claims = app
        .app
        .tokens
        .verify(body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims.sub.to_string(), body["user_id"].as_str().unwrap());
    assert_eq!(claims.hid.to_string(), body["household_id"].as_str().unwrap());
    assert_eq!(claims.role, Role::Owner);

    let db = app.api.db();
    let rows = db
        .execute(
            "SELECT u.email, u.role, h.name, h.currency_code FROM users u JOIN households h ON h.id = u.household_id",
            vec![],
        )
        .await
        .unwrap();
    let row = rows.first().unwrap();
    let stored: (String, String, String, String) = (
        row.get(0).unwrap(),
        row.get(1).unwrap(),
        row.get(2).unwrap(),
        row.get(3).unwrap(),
    );
    assert_eq!(
        stored,
        (
            "ada@example.com".into(),
            "owner".into(),
            "Lovelace home".into(),
            "EUR".into()
        )
    );
}

#[tokio::test]
async fn register_defaults_the_household_to_usd_and_the_owners_name() {
    let app = TestApp::spawn().await.unwrap();
    app.register("ada@example.com").await;
    let rows = app
        .api
        .db()
        .execute("SELECT name, currency_code FROM households", vec![])
        .await
        .unwrap();
    let row = rows.first().unwrap();
    assert_eq!(row.get::<String>(0).unwrap(), "Test Owner's household");
    assert_eq!(row.get::<String>(1).unwrap(), "USD");
}

#[tokio::test]
async fn register_stores_an_argon2id_hash_with_the_owasp_parameters() {
    let app = TestApp::spawn().await.unwrap();
    app.register("ada@example.com").await;
    let rows = app
        .api
        .db()
        .execute("SELECT password_hash FROM users", vec![])
        .await
        .unwrap();
    let hash: String = rows.first().unwrap().get(0).unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(verify_password(
        &Password::parse("correct horse battery").unwrap(),
        &hash
    ));
    assert!(!verify_password(
        &Password::parse("correct horse battery!").unwrap(),
        &hash
    ));
}

#[tokio::test]
async fn register_returns_409_when_email_is_taken() {
    let app = TestApp::spawn().await.unwrap();
    app.register("ada@example.com").await;
    app.reset_calls();
    let response = app.post_register(&registration("ADA@example.com")).await;
    assert_eq!(response.status, 409);
    assert_eq!(response.header("content-type"), Some("application/problem+json"));
    assert_eq!(problem_type(&response.body), "/problems/conflict");
    assert_eq!(
        response.body["detail"],
        "An account with this email already exists."
    );
    assert_eq!(app.calls(), 1);
    let households = app
        .api
        .db()
        .execute("SELECT count(*) FROM households", vec![])
        .await
        .unwrap();
    assert_eq!(
        households.first().unwrap().get::<i64>(0).unwrap(),
        1,
        "the failed registration left nothing"
    );
}

#[tokio::test]
async fn register_returns_422_listing_every_invalid_field() {
    let app = TestApp::spawn().await.unwrap();
    app.reset_calls();
    let response = app
        .post_register(&json!({"email": "not-an-email", "password": "short", "display_name": "  ", "currency_code": "EU"}))
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(response.body["status"], 422);
    assert_eq!(
        field_errors(&response.body),
        vec![
            ("email".into(), "must be an email address".into()),
            ("password".into(), "must be at least 12 characters".into()),
            ("display_name".into(), "must not be empty".into()),
            (
                "currency_code".into(),
                "must be a three-letter ISO 4217 currency code, e.g. USD".into()
            ),
        ]
    );
    assert_eq!(app.calls(), 0, "invalid input never reaches the database");
}

#[tokio::test]
async fn register_returns_422_for_missing_unknown_and_mistyped_fields() {
    let app = TestApp::spawn().await.unwrap();
    let missing = app
        .post_register(&json!({"email": "a@b.co", "password": "correct horse battery"}))
        .await;
    assert_eq!(
        (missing.status, field_errors(&missing.body)),
        (422, vec![("display_name".into(), "is required".into())])
    );
    let mut unknown = registration("a@b.co");
    unknown["is_admin"] = json!(true);
    let unknown = app.post_register(&unknown).await;
    assert_eq!(
        (unknown.status, field_errors(&unknown.body)),
        (422, vec![("is_admin".into(), "is not a known field".into())])
    );
    let mut mistyped = registration("a@b.co");
    mistyped["password"] = json!(123_456_789_012_i64);
    let mistyped = app.post_register(&mistyped).await;
    assert_eq!(mistyped.status, 422);
    assert_eq!(field_errors(&mistyped.body)[0].0, "password");
    let long = app
        .post_register(&json!({"email": "a@b.co", "password": "x".repeat(257), "display_name": "A"}))
        .await;
    assert_eq!(
        field_errors(&long.body),
        vec![("password".into(), "must be at most 256 characters".into())]
    );
}

#[tokio::test]
async fn register_returns_400_for_malformed_json() {
    let app = TestApp::spawn().await.unwrap();
    for body in ["{\"email\": ", "not json", "", "{} trailing"] {
        let response = app
            .send_register(request(&event(
                "POST",
                "/auth/register",
                &[("content-type", "application/json")],
                Some(body),
            )))
            .await;
        assert_eq!(response.status, 400, "{body:?}: {:?}", response.body);
        assert_eq!(problem_type(&response.body), "/problems/malformed-request");
    }
    assert_body_rules("/auth/register", async |r| app.send_register(r).await).await;
}

#[tokio::test]
async fn register_returns_415_unless_the_body_is_json() {
    let app = TestApp::spawn().await.unwrap();
    let body = registration("ada@example.com").to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|c| vec![("content-type", c)])
            .unwrap_or_default();
        let response = app
            .send_register(request(&event("POST", "/auth/register", &headers, Some(&body))))
            .await;
        assert_eq!(response.status, 415, "{content_type:?}");
    }
    let charset = request(&event(
        "POST",
        "/auth/register",
        &[("content-type", "application/json; charset=utf-8")],
        Some(&body),
    ));
    assert_eq!(app.send_register(charset).await.status, 201);
}

#[tokio::test]
async fn register_returns_413_for_a_body_over_64_kib() {
    let app = TestApp::spawn().await.unwrap();
    let mut body = registration("ada@example.com");
    body["display_name"] = json!("x".repeat(70_000));
    let response = app.post_register(&body).await;
    assert_eq!(response.status, 413);
    assert_eq!(problem_type(&response.body), "/problems/payload-too-large");
}

async fn invite(
    app: &TestApp,
    household: &str,
    inviter: &str,
    email: &str,
    role: &str,
    expires_in_hours: i64,
) -> String {
    let owner = json!({"household_id": household, "user_id": inviter});
    app.invite(&owner, email, role, expires_in_hours).await
}

#[tokio::test]
async fn register_with_an_invitation_joins_that_household_once() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let household = owner["household_id"].as_str().unwrap();
    let token = invite(
        &app,
        household,
        owner["user_id"].as_str().unwrap(),
        "bob@example.com",
        "member",
        24,
    )
    .await;

    app.reset_calls();
    let mut body = registration("bob@example.com");
    body["invitation_token"] = json!(token);
    let joined = app.post_register(&body).await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(joined.body["household_id"], household);
    let claims = app
        .app
        .tokens
        .verify(joined.body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims.role, Role::Member);

    let mut again = registration("bob2@example.com");
    again["invitation_token"] = json!(token);
    let reused = app.post_register(&again).await;
    assert_eq!(reused.status, 422, "an invitation is consumed");
    assert_eq!(field_errors(&reused.body)[0].0, "invitation_token");
}

#[tokio::test]
async fn register_refuses_expired_foreign_email_and_mixed_invitations() {
    let app = TestApp::spawn().await.unwrap();
    let owner = app.register("owner@example.com").await;
    let (household, inviter) = (
        owner["household_id"].as_str().unwrap(),
        owner["user_id"].as_str().unwrap(),
    );
    let expired = invite(&app, household, inviter, "late@example.com", "member", -1).await;
    let mut body = registration("late@example.com");
    body["invitation_token"] = json!(expired);
    assert_eq!(app.post_register(&body).await.status, 422);

    let for_carol = invite(&app, household, inviter, "carol@example.com", "member", 24).await;
    let mut body = registration("mallory@example.com");
    body["invitation_token"] = json!(for_carol);
    assert_eq!(
        app.post_register(&body).await.status,
        422,
        "the invitation names another email"
    );

    let mut mixed = registration("carol@example.com");
    mixed["invitation_token"] = json!(for_carol);
    mixed["household_name"] = json!("Mine");
    let response = app.post_register(&mixed).await;
    assert_eq!(response.status, 422);
    assert_eq!(field_errors(&response.body)[0].0, "household_name");
    let users = app
        .api
        .db()
        .execute("SELECT count(*) FROM users", vec![])
        .await
        .unwrap();
    assert_eq!(users.first().unwrap().get::<i64>(0).unwrap(), 1);
}

// --- login ---

#[tokio::test]
async fn login_returns_a_new_session_in_two_calls() {
    let app = TestApp::spawn().await.unwrap();
    let registered = app.register("ada@example.com").await;
    app.reset_calls();
    let response = app
        .post_login(&json!({"email": "ADA@example.com", "password": "correct horse battery"}))
        .await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    assert_eq!(app.calls(), 2);
    assert_eq!(response.body["user_id"], registered["user_id"]);
    assert_ne!(response.body["refresh_token"], registered["refresh_token"]);
}

#[tokio::test]
async fn login_answers_unknown_email_and_wrong_password_alike() {
    let app = TestApp::spawn().await.unwrap();
    app.register("ada@example.com").await;
    let wrong = app
        .post_login(&json!({"email": "ada@example.com", "password": "incorrect horse battery"}))
        .await;
    let unknown = app
        .post_login(&json!({"email": "nobody@example.com", "password": "correct horse battery"}))
        .await;
    let short = app
        .post_login(&json!({"email": "ada@example.com", "password": "short"}))
        .await;
    assert_eq!((wrong.status, unknown.status, short.status), (401, 401, 401));
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.body, short.body);
}

#[tokio::test]
async fn login_returns_400_413_415_and_422_for_bad_requests() {
    let app = TestApp::spawn().await.unwrap();
    assert_body_rules("/auth/login", async |r| app.send_login(r).await).await;
    let missing = app.post_login(&json!({"email": "a@b.co"})).await;
    assert_eq!(
        (missing.status, field_errors(&missing.body)),
        (422, vec![("password".into(), "is required".into())])
    );
    let invalid = app
        .post_login(&json!({"email": "nope", "password": "whatever whatever"}))
        .await;
    assert_eq!(invalid.status, 422);
}

#[tokio::test]
async fn login_rehashes_a_password_stored_with_older_parameters() {
    let app = TestApp::spawn().await.unwrap();
    app.register("ada@example.com").await;
    let weak = {
        use argon2::password_hash::PasswordHasher;
        let params = argon2::Params::new(8192, 1, 1, None).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string()
    };
    app.api
        .db()
        .execute("UPDATE users SET password_hash = :h", vec![param("h", &weak)])
        .await
        .unwrap();
    let response = app
        .post_login(&json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .await;
    assert_eq!(response.status, 200);
    let rows = app
        .api
        .db()
        .execute("SELECT password_hash FROM users", vec![])
        .await
        .unwrap();
    let hash: String = rows.first().unwrap().get(0).unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
}

// --- refresh and logout ---

#[tokio::test]
async fn refresh_rotates_the_token_in_one_call() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    app.reset_calls();
    let refreshed = app
        .post_refresh(&json!({"refresh_token": session["refresh_token"]}))
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert_eq!(app.calls(), 1);
    assert_ne!(refreshed.body["refresh_token"], session["refresh_token"]);
    assert_eq!(refreshed.body["household_id"], session["household_id"]);
    let again = app
        .post_refresh(&json!({"refresh_token": refreshed.body["refresh_token"]}))
        .await;
    assert_eq!(again.status, 200, "the new token works");
}

#[tokio::test]
async fn presenting_a_rotated_token_revokes_the_whole_family() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    let first = session["refresh_token"].clone();
    let second = app.post_refresh(&json!({"refresh_token": first})).await.body["refresh_token"].clone();

    let reuse = app.post_refresh(&json!({"refresh_token": first})).await;
    assert_eq!(reuse.status, 401);
    let legit = app.post_refresh(&json!({"refresh_token": second})).await;
    assert_eq!(legit.status, 401, "the newest token of the family is revoked too");
    let live = app
        .api
        .db()
        .execute(
            "SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(live.first().unwrap().get::<i64>(0).unwrap(), 0);
}

#[tokio::test]
async fn refresh_refuses_unknown_expired_and_malformed_tokens() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    let unknown = shared::auth::SecretToken::generate();
    assert_eq!(
        app.post_refresh(&json!({"refresh_token": unknown.secret()}))
            .await
            .status,
        401
    );
    app.api
        .db()
        .execute(
            "UPDATE refresh_tokens SET expires_at = now() - interval '1 second'",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        app.post_refresh(&json!({"refresh_token": session["refresh_token"]}))
            .await
            .status,
        401
    );
    let malformed = app.post_refresh(&json!({"refresh_token": "abc"})).await;
    assert_eq!(
        (malformed.status, field_errors(&malformed.body)[0].0.as_str()),
        (422, "refresh_token")
    );
    let missing = app.post_refresh(&json!({})).await;
    assert_eq!(missing.status, 422);
    assert_body_rules("/auth/refresh", async |r| app.send_refresh(r).await).await;
}

#[tokio::test]
async fn logout_revokes_the_family_in_one_call_and_is_idempotent() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    let rotated = app
        .post_refresh(&json!({"refresh_token": session["refresh_token"]}))
        .await
        .body;
    app.reset_calls();
    let logout = app
        .post_logout(&json!({"refresh_token": rotated["refresh_token"]}))
        .await;
    assert_eq!(logout.status, 204);
    assert_eq!(logout.body, Value::Null);
    assert_eq!(app.calls(), 1);
    assert_eq!(
        app.post_refresh(&json!({"refresh_token": rotated["refresh_token"]}))
            .await
            .status,
        401
    );
    assert_eq!(
        app.post_logout(&json!({"refresh_token": rotated["refresh_token"]}))
            .await
            .status,
        204
    );
    assert_eq!(
        app.post_logout(&json!({"refresh_token": "abc"})).await.status,
        422
    );
    assert_eq!(app.post_logout(&json!({})).await.status, 422);
    assert_body_rules("/auth/logout", async |r| app.send_logout(r).await).await;
}

// --- me ---

#[tokio::test]
async fn me_returns_the_caller_in_one_call() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    app.reset_calls();
    let me = app.get_me(session["access_token"].as_str()).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(app.calls(), 1);
    assert_eq!(
        me.body,
        json!({
            "user_id": session["user_id"], "email": "ada@example.com", "display_name": "Test Owner",
            "household_id": session["household_id"], "role": "owner"
        })
    );
}

#[tokio::test]
async fn me_refuses_missing_tampered_expired_and_foreign_tokens() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    let token = session["access_token"].as_str().unwrap();
    app.reset_calls();

    assert_eq!(app.get_me(None).await.status, 401);
    let basic = app
        .send_me(request(&event(
            "GET",
            "/me",
            &[("authorization", "Basic YTpi")],
            None,
        )))
        .await;
    assert_eq!(basic.status, 401);

    let mut tampered = token.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(app.get_me(Some(&tampered)).await.status, 401);

    let claims = app.app.tokens.verify(token).unwrap();
    let expired = Claims {
        iat: (Utc::now() - Duration::hours(1)).timestamp(),
        exp: (Utc::now() - Duration::seconds(1)).timestamp(),
        ..claims.clone()
    };
    assert_eq!(app.get_me(Some(&app.sign(&expired))).await.status, 401);

    let other_key = TokenSigner::new(&[7u8; 32], functions::app::TOKEN_ISSUER).unwrap();
    assert_eq!(
        app.get_me(Some(&other_key.sign(&claims).unwrap())).await.status,
        401,
        "signed with another key"
    );
    let wrong_issuer = TokenSigner::new(&[7u8; 32], "someone-else").unwrap();
    let foreign = Claims {
        iss: "someone-else".into(),
        ..claims.clone()
    };
    assert_eq!(
        app.get_me(Some(&wrong_issuer.sign(&foreign).unwrap()))
            .await
            .status,
        401
    );
    let issuer_mismatch = Claims {
        iss: "someone-else".into(),
        ..claims
    };
    assert_eq!(app.get_me(Some(&app.sign(&issuer_mismatch))).await.status, 401);
    let unsigned = format!(
        "{}.{}.",
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0",
        token.split('.').nth(1).unwrap()
    );
    assert_eq!(app.get_me(Some(&unsigned)).await.status, 401, "alg none");

    assert_eq!(app.calls(), 0, "refused tokens never reach the database");
}

#[tokio::test]
async fn a_key_rotation_rejects_no_valid_token() {
    // Phase 1: every instance verifies with the next key too; phase 2: the issuers sign with it
    // and every instance keeps verifying with the previous one. A token from either side of the
    // rotation passes everywhere it can arrive; a key never configured and an expired token fail.
    let mut app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    let old_token = session["access_token"].as_str().unwrap().to_owned();
    let claims = app.app.tokens.verify(&old_token).unwrap();
    let (old_key, new_key) = ([1u8; 32], [2u8; 32]);
    let issuer = functions::app::TOKEN_ISSUER;
    let old = TokenSigner::new(&old_key, issuer).unwrap();
    let new = TokenSigner::new(&new_key, issuer).unwrap();
    let (old_public, new_public) = (old.public_key().clone(), new.public_key().clone());
    let phase_one = TokenVerifier::new(&[old_public.clone(), new_public.clone()], issuer).unwrap();
    let phase_two = TokenVerifier::new(&[new_public, old_public], issuer).unwrap();
    let by_old = old.sign(&claims).unwrap();
    let by_new = new.sign(&claims).unwrap();
    for (instance, name) in [(&phase_one, "phase one"), (&phase_two, "phase two")] {
        app.app.tokens = std::sync::Arc::new(instance.clone());
        for (token, signer) in [(&by_old, "old"), (&by_new, "new")] {
            assert_eq!(
                app.get_me(Some(token)).await.status,
                200,
                "{name}, signed by {signer}"
            );
        }
        let stranger = TokenSigner::new(&[3u8; 32], issuer).unwrap();
        assert_eq!(
            app.get_me(Some(&stranger.sign(&claims).unwrap())).await.status,
            401
        );
        let expired = Claims {
            exp: (Utc::now() - Duration::seconds(1)).timestamp(),
            ..claims.clone()
        };
        assert_eq!(app.get_me(Some(&old.sign(&expired).unwrap())).await.status, 401);
    }
    assert!(TokenSigner::new(&[0u8; 31], issuer).is_err());
}

#[tokio::test]
async fn only_a_function_holding_the_signing_key_issues_tokens() {
    // The verifying functions get public keys only: the same App without a signing secret answers
    // a login 500 with no token, while it still verifies the tokens the issuers sign.
    let mut app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    let issuing = app.app.signing.take();
    assert_eq!(app.get_me(session["access_token"].as_str()).await.status, 200);
    let login = json!({"email": "ada@example.com", "password": "correct horse battery"});
    let refused = app.post_login(&login).await;
    assert_eq!(refused.status, 500);
    assert!(refused.body.get("access_token").is_none());
    app.app.signing = issuing;
    assert_eq!(
        app.post_login(&login).await.status,
        200,
        "the issuer reads its key on first use"
    );

    // A signing secret whose key the verifiers do not hold signs nothing: its tokens would be
    // refused everywhere. (It names a secret the emulator does not hold, then one it does.)
    let nowhere = "arn:aws:secretsmanager:us-east-1:000000000000:secret:nowhere";
    let secrets = harness::data_api::secrets_client(&app.api.endpoint());
    app.app.signing = Some(std::sync::Arc::new(functions::signing::Signing::new(
        secrets.clone(),
        nowhere,
        None,
    )));
    assert_eq!(app.post_login(&login).await.status, 500);
    let stranger = TokenSigner::new(&[9u8; 32], functions::app::TOKEN_ISSUER).unwrap();
    app.app.tokens = std::sync::Arc::new(
        TokenVerifier::new(&[stranger.public_key().clone()], functions::app::TOKEN_ISSUER).unwrap(),
    );
    let arn = harness::data_api::TOKEN_SECRET_ARN;
    app.app.signing = Some(std::sync::Arc::new(functions::signing::Signing::new(
        secrets, arn, None,
    )));
    assert_eq!(app.post_login(&login).await.status, 500);
}

#[tokio::test]
async fn me_refuses_a_token_whose_user_is_gone() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    app.api
        .db()
        .execute("DELETE FROM households", vec![])
        .await
        .unwrap();
    assert_eq!(app.get_me(session["access_token"].as_str()).await.status, 401);
}

#[tokio::test]
async fn the_full_flow_register_login_me_refresh_logout() {
    let app = TestApp::spawn().await.unwrap();
    app.register("ada@example.com").await;
    let login = app
        .post_login(&json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .await;
    assert_eq!(login.status, 200);
    let me = app.get_me(login.body["access_token"].as_str()).await;
    assert_eq!(me.body["email"], "ada@example.com");
    let refreshed = app
        .post_refresh(&json!({"refresh_token": login.body["refresh_token"]}))
        .await;
    assert_eq!(refreshed.status, 200);
    assert_eq!(
        app.get_me(refreshed.body["access_token"].as_str()).await.status,
        200
    );
    assert_eq!(
        app.post_logout(&json!({"refresh_token": refreshed.body["refresh_token"]}))
            .await
            .status,
        204
    );
    assert_eq!(
        app.post_refresh(&json!({"refresh_token": refreshed.body["refresh_token"]}))
            .await
            .status,
        401
    );
}

// --- the HTTP foundation ---

#[tokio::test]
async fn a_member_is_forbidden_what_only_an_owner_may_do() {
    let app = TestApp::spawn().await.unwrap();
    let claims = Claims {
        sub: UserId::new(),
        hid: HouseholdId::new(),
        sid: shared::domain::TokenFamilyId::new(),
        role: Role::Member,
        iat: Utc::now().timestamp(),
        exp: (Utc::now() + Duration::minutes(5)).timestamp(),
        jti: "x".into(),
        iss: functions::app::TOKEN_ISSUER.into(),
    };
    let token = app.sign(&claims);
    let request = json_request("POST", "/anything", &json!({}), Some(&token));
    let verified = shared::http::bearer(&request, &app.app.tokens).unwrap();
    let error = require_role(&verified, Role::Owner).unwrap_err();
    let response = harness::app::read(error.into_response("req-1")).await;
    assert_eq!(response.status, 403);
    assert_eq!(response.header("content-type"), Some("application/problem+json"));
    assert_eq!(response.body["type"], "/problems/forbidden");
    assert!(
        require_role(
            &Claims {
                role: Role::Owner,
                ..verified
            },
            Role::Owner
        )
        .is_ok()
    );
}

#[tokio::test]
async fn a_500_shows_only_the_request_id() {
    let response = harness::app::read(
        shared::http::ApiError::Internal(
            "connection to 10.0.0.5 refused: password authentication failed".into(),
        )
        .into_response("req-42"),
    )
    .await;
    assert_eq!(response.status, 500);
    let text = response.body.to_string();
    assert!(text.contains("req-42"));
    assert!(!text.contains("10.0.0.5") && !text.contains("password"), "{text}");
}

#[test]
fn path_parameters_are_the_same_from_api_gateway_and_from_a_raw_path_router() {
    let route = Route::new("GET", "/accounts/{account_id}");
    let mut from_api_gateway = event("GET", "/accounts/0190a5e6-7b1c-7cc3-8d2e-5f6a7b8c9d0e", &[], None);
    from_api_gateway["routeKey"] = json!("GET /accounts/{account_id}");
    from_api_gateway["pathParameters"] = json!({"account_id": "0190a5e6-7b1c-7cc3-8d2e-5f6a7b8c9d0e"});
    let mut from_local_router = event("GET", "/accounts/0190a5e6-7b1c-7cc3-8d2e-5f6a7b8c9d0e", &[], None);
    from_local_router["routeKey"] = json!("$default");
    for shape in [from_api_gateway, from_local_router] {
        let parameters = route.parameters(&request(&shape));
        assert_eq!(
            parameters.get("account_id").map(String::as_str),
            Some("0190a5e6-7b1c-7cc3-8d2e-5f6a7b8c9d0e")
        );
    }
    assert_eq!(route.match_path("/accounts"), None);
    assert_eq!(route.match_path("/payees/x"), None);
}
