//! A test's own API: a fresh database with the schema, an in-process data-api-local, and the
//! functions' `App` pointed at it. Requests are real API Gateway HTTP API (v2) events, parsed by
//! `lambda_http` exactly as in Lambda, and handed to the endpoints through `Endpoint::call`.

use std::sync::Arc;

use functions::App;
use functions::signing::Signing;
use lambda_http::http::HeaderMap;
use lambda_http::{Body, Request, Response};
use rand::Rng;
use serde_json::{Value, json};
use shared::auth::{TokenSigner, TokenVerifier};

use crate::data_api::{TOKEN_SECRET_ARN, TOKEN_SIGNING_KEY, secrets_client};
use shared::db::param;

use crate::data_api::TestDataApi;

pub struct TestApp {
    pub app: App,
    pub api: TestDataApi,
    /// The key the issuers read from the emulator's secret, for tests' own odd tokens.
    pub signer: TokenSigner,
}

/// A response, with the body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The `field` of every error a 422 problem document lists, in order.
    pub fn invalid_fields(&self) -> Vec<&str> {
        self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it.
pub fn event(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Value {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), json!(v)))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "local.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "local",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "tests" },
            "requestId": format!("test-{}", uuid_like()),
            "routeKey": format!("{method} {path}"),
            "stage": "$default",
            "time": "24/Nov/2026:06:00:00 +0000",
            "timeEpoch": 1_795_500_000_000_i64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// Puts `pairs` into `event` as its query string, as API Gateway does (raw and parsed).
pub fn add_query(event: &mut Value, pairs: &[(&str, &str)]) {
    if pairs.is_empty() {
        return;
    }
    let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    event["rawQueryString"] = json!(raw.join("&"));
    let parameters: serde_json::Map<String, Value> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    event["queryStringParameters"] = Value::Object(parameters);
}

fn uuid_like() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

/// Parses an event the way the Lambda runtime does.
pub fn request(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event")
}

/// The access token of a session answer (register, login, refresh).
pub fn access_token(session: &Value) -> &str {
    session["access_token"].as_str().expect("a session answer")
}

/// A request without a body (GET, DELETE) for `method path`, authorised as `session`.
pub fn bearer_request(method: &str, path: &str, session: &Value) -> Request {
    let authorization = format!("Bearer {}", access_token(session));
    request(&event(method, path, &[("authorization", &authorization)], None))
}

/// `request` with `If-Match: tag`, when there is a tag.
pub fn with_if_match(mut request: Request, tag: Option<&str>) -> Request {
    if let Some(tag) = tag {
        let value = tag.parse().expect("an If-Match value is a valid header");
        request.headers_mut().insert("if-match", value);
    }
    request
}

/// `request` with `pairs` as its query string parameters.
pub fn with_query(request: Request, pairs: &[(&str, &str)]) -> Request {
    if pairs.is_empty() {
        return request;
    }
    let parameters: std::collections::HashMap<String, Vec<String>> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
        .collect();
    lambda_http::RequestExt::with_query_string_parameters(request, parameters)
}

/// A JSON request for `method path`.
pub fn json_request(method: &str, path: &str, body: &Value, bearer: Option<&str>) -> Request {
    let authorization = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(value) = authorization.as_deref() {
        headers.push(("authorization", value));
    }
    request(&event(method, path, &headers, Some(&body.to_string())))
}

pub async fn read(response: Response<Body>) -> TestResponse {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = match response.into_body() {
        Body::Text(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        Body::Binary(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    TestResponse {
        status,
        headers,
        body,
    }
}

impl TestApp {
    /// A fresh database with the schema, its emulator, and an `App` that issues tokens.
    ///
    /// # Errors
    /// When PostgreSQL or the schema template is unavailable.
    pub async fn spawn() -> anyhow::Result<Self> {
        let api = TestDataApi::with_schema().await?;
        let issuer = functions::app::TOKEN_ISSUER;
        let signer = TokenSigner::new(TOKEN_SIGNING_KEY.as_bytes(), issuer)?;
        let verifier = TokenVerifier::new(&[signer.public_key().clone()], issuer)?;
        // As on AWS: the API functions log in as the application role, and the issuers read the
        // signing key from Secrets Manager (the emulator's) on first use.
        let signing = Signing::new(secrets_client(&api.endpoint()), TOKEN_SECRET_ARN, None);
        let app = App {
            db: api.app_db(),
            tokens: Arc::new(verifier),
            signing: Some(Arc::new(signing)),
        };
        Ok(Self { app, api, signer })
    }

    /// Signs `claims` with the key the endpoints issue tokens with (for expired or odd tokens).
    pub fn sign(&self, claims: &shared::auth::Claims) -> String {
        self.signer.sign(claims).expect("signing with a valid key")
    }

    /// Data API calls made since the last [`Self::reset_calls`].
    pub fn calls(&self) -> u64 {
        self.api.calls().total
    }

    pub fn reset_calls(&self) {
        self.api.emulator.service.reset_stats();
    }

    /// Hands `request` to `endpoint` through the glue, as its binary would.
    pub async fn send(&self, endpoint: &functions::endpoint::Endpoint, request: Request) -> TestResponse {
        read(endpoint.call(&self.app, request).await.expect("respond")).await
    }

    /// A JSON `method path` as `session`, to `endpoint`.
    pub async fn send_json(
        &self,
        endpoint: &functions::endpoint::Endpoint,
        method: &str,
        path: &str,
        session: &Value,
        body: &Value,
    ) -> TestResponse {
        self.send_json_if_match(endpoint, method, path, session, body, None)
            .await
    }

    /// As [`Self::send_json`], with `If-Match: if_match` when it is given.
    pub async fn send_json_if_match(
        &self,
        endpoint: &functions::endpoint::Endpoint,
        method: &str,
        path: &str,
        session: &Value,
        body: &Value,
        if_match: Option<&str>,
    ) -> TestResponse {
        let request = json_request(method, path, body, Some(access_token(session)));
        self.send(endpoint, with_if_match(request, if_match)).await
    }

    /// A new account of `session`'s household, closed at once; answers its id.
    pub async fn closed_account(&self, session: &Value, name: &str) -> String {
        let created = self
            .create_account(session, &json!({"name": name, "kind": "cash"}))
            .await;
        let id = created.body["id"].as_str().expect("an account id").to_owned();
        let closed = self
            .send_json(
                &functions::registry::ACCOUNTS_UPDATE,
                "PATCH",
                &format!("/accounts/{id}"),
                session,
                &json!({"closed": true}),
            )
            .await;
        assert_eq!(closed.status, 200, "{:?}", closed.body);
        id
    }

    /// `POST /accounts` as `session`; asserts it was created.
    /// The id of the first category of `session`'s household (a new household has the defaults).
    pub async fn first_category(&self, session: &Value) -> String {
        let groups = self
            .send(
                &functions::registry::CATEGORY_GROUPS_LIST,
                bearer_request("GET", "/category-groups", session),
            )
            .await;
        groups.body["category_groups"][0]["categories"][0]["id"]
            .as_str()
            .expect("a household starts with categories")
            .to_owned()
    }

    pub async fn create_account(&self, session: &Value, body: &Value) -> TestResponse {
        let response = self
            .send_json(
                &functions::registry::ACCOUNTS_CREATE,
                "POST",
                "/accounts",
                session,
                body,
            )
            .await;
        assert_eq!(response.status, 201, "{:?}", response.body);
        response
    }

    pub async fn post_register(&self, body: &Value) -> TestResponse {
        self.send_register(json_request("POST", "/auth/register", body, None))
            .await
    }

    pub async fn send_register(&self, request: Request) -> TestResponse {
        self.send(&functions::registry::AUTH_REGISTER, request).await
    }

    pub async fn post_login(&self, body: &Value) -> TestResponse {
        self.send_login(json_request("POST", "/auth/login", body, None))
            .await
    }

    pub async fn send_login(&self, request: Request) -> TestResponse {
        self.send(&functions::registry::AUTH_LOGIN, request).await
    }

    pub async fn post_refresh(&self, body: &Value) -> TestResponse {
        self.send_refresh(json_request("POST", "/auth/refresh", body, None))
            .await
    }

    pub async fn send_refresh(&self, request: Request) -> TestResponse {
        self.send(&functions::registry::AUTH_REFRESH, request).await
    }

    pub async fn post_logout(&self, body: &Value) -> TestResponse {
        self.send_logout(json_request("POST", "/auth/logout", body, None))
            .await
    }

    pub async fn send_logout(&self, request: Request) -> TestResponse {
        self.send(&functions::registry::AUTH_LOGOUT, request).await
    }

    pub async fn get_me(&self, token: Option<&str>) -> TestResponse {
        let authorization = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        self.send_me(request(&event("GET", "/me", &headers, None))).await
    }

    pub async fn send_me(&self, request: Request) -> TestResponse {
        self.send(&functions::registry::ME, request).await
    }

    /// Registers a new household owner and returns the 201 body.
    /// An invitation into `owner`'s household (a session answer of [`Self::register`]) for
    /// `email` with `role`, written straight to the database; answers the invitation token.
    pub async fn invite(&self, owner: &Value, email: &str, role: &str, expires_in_hours: i64) -> String {
        let token = shared::auth::SecretToken::generate();
        let id = |field: &str| owner[field].as_str().expect("a session answer").to_owned();
        self.api
            .db()
            .execute(
                "INSERT INTO household_invitations (id, household_id, email, role, token_hash, invited_by, expires_at) \
                 VALUES (:id, :household::uuid, :email, :role, :hash, :inviter::uuid, now() + :hours * interval '1 hour')",
                vec![
                    param("id", &shared::domain::InvitationId::new()),
                    param("household", id("household_id").as_str()),
                    param("email", email),
                    param("role", role),
                    param("hash", &token.hash()),
                    param("inviter", id("user_id").as_str()),
                    param("hours", &expires_in_hours),
                ],
            )
            .await
            .expect("inserting an invitation");
        token.secret().to_owned()
    }

    /// A new member of `owner`'s household with `role`, registered by invitation: their session.
    pub async fn join(&self, owner: &Value, email: &str, role: &str) -> Value {
        let token = self.invite(owner, email, role, 24).await;
        let response = self
            .post_register(&json!({
                "email": email,
                "password": "correct horse battery",
                "display_name": "Test Member",
                "invitation_token": token,
            }))
            .await;
        assert_eq!(response.status, 201, "{:?}", response.body);
        response.body
    }

    pub async fn register(&self, email: &str) -> Value {
        let response = self
            .post_register(&json!({
                "email": email,
                "password": "correct horse battery",
                "display_name": "Test Owner",
            }))
            .await;
        assert_eq!(response.status, 201, "{:?}", response.body);
        response.body
    }
}
