//! HTTP helpers every endpoint shares: reading requests, and answering errors as RFC 9457
//! problem details (`application/problem+json`).
//!
//! [`ApiError`] is the one error type handlers return; [`ApiError::status`] is the one place a
//! failure becomes a status code. Internal details never reach a response body: a 500 carries only
//! the request id, and the cause goes to the log.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::{Claims, TokenVerifier};
use crate::db::DbError;
use crate::domain::{ParseError, Role};

mod nullable;
mod route;

pub use nullable::present;
pub use route::{Route, query_flag, writes};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One invalid field of a request, for 422 answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's JSON path, e.g. `email` or `lines[2].amount`.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document: how every error answers (`application/problem+json`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// What kind of problem, as a URI reference, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    #[schema(examples("/problems/validation"))]
    pub kind: String,
    /// The status code's reason phrase.
    #[schema(examples("Unprocessable Entity"))]
    pub title: String,
    /// The HTTP status code.
    #[schema(examples(422))]
    pub status: u16,
    /// What went wrong and what to do, for a person.
    #[schema(examples("Some fields are invalid."))]
    pub detail: String,
    /// With 422 only: every invalid field and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    MalformedJson(String),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the resource changed since the If-Match version")]
    PreconditionFailed,
    /// The request's `Idempotency-Key` was claimed by an earlier request, so nothing was written.
    /// The glue answers from that request's record; a client sees this only if the record is gone.
    #[error("the Idempotency-Key was already claimed")]
    KeyTaken,
    #[error("request larger than {limit} bytes")]
    PayloadTooLarge { limit: usize, what: &'static str },
    /// The answer would be larger than the Data API returns, so the statement wrote nothing.
    #[error("the answer is larger than the database can return")]
    AnswerTooLarge,
    #[error("unsupported content type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many attempts; retry after {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("the database is waking up")]
    Unavailable,
    #[error("too many writes to one household at once")]
    Contended,
    /// The database could not finish the statement (timed out, connection lost): try again.
    #[error("the database could not finish the request")]
    Interrupted,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The one mapping from failure to status code.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::KeyTaken => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } | Self::AnswerTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Contended | Self::Interrupted => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A value that validation said was there is not: a bug in the handler, never the client's.
    pub fn validated_missing() -> Self {
        Self::Internal("validated fields missing".to_owned())
    }

    /// One invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// Renders the problem document; `request_id` is quoted in 500s so support can find the log.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let status = self.status();
        let (kind, detail, errors) = match &self {
            Self::MalformedJson(detail) => ("malformed-request", detail.clone(), None),
            Self::Unauthorized(detail) => ("unauthorized", (*detail).to_owned(), None),
            Self::Forbidden(detail) => ("forbidden", (*detail).to_owned(), None),
            Self::NotFound => ("not-found", "No such resource.".to_owned(), None),
            Self::Conflict(detail) => ("conflict", detail.clone(), None),
            Self::KeyTaken => (
                "conflict",
                "A request with this Idempotency-Key was already made and its answer is not kept any \
                 more. Read the resource to see its state; send a new request with a new key."
                    .to_owned(),
                None,
            ),
            Self::PreconditionFailed => (
                "precondition-failed",
                "The resource changed since the version in If-Match. Read it again, then retry.".to_owned(),
                None,
            ),
            Self::PayloadTooLarge { limit, what } => (
                "payload-too-large",
                format!("The {what} must be at most {limit} bytes."),
                None,
            ),
            Self::AnswerTooLarge => (
                "answer-too-large",
                format!(
                    "The answer to this request would be larger than the database can return (at most {} bytes, {} per row); nothing was written. Send fewer transactions at once, or shorter texts.",
                    crate::max_answer_bytes!(),
                    crate::max_record_bytes!()
                ),
                None,
            ),
            Self::UnsupportedMediaType => (
                "unsupported-media-type",
                "Send the body as application/json.".to_owned(),
                None,
            ),
            Self::Validation(errors) => (
                "validation",
                "Some fields are invalid.".to_owned(),
                Some(errors.clone()),
            ),
            Self::TooManyRequests { retry_after_seconds } => (
                "too-many-requests",
                format!("Too many attempts. Try again in {retry_after_seconds} seconds."),
                None,
            ),
            Self::Unavailable => (
                "unavailable",
                "The service is starting up. Try again in a few seconds.".to_owned(),
                None,
            ),
            Self::Contended => (
                "contended",
                "Too many changes to your household at once; nothing was changed. Try again in a second."
                    .to_owned(),
                None,
            ),
            Self::Interrupted => (
                "interrupted",
                "The database could not finish this request. Try again in a second; a write sent \
                 again with the same Idempotency-Key is never applied twice."
                    .to_owned(),
                None,
            ),
            Self::Internal(_) => (
                "internal",
                format!("An unexpected error occurred. Quote request id {request_id} when reporting it."),
                None,
            ),
        };
        let problem = Problem {
            kind: format!("/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let body = serde_json::to_string(&problem).unwrap_or_default();
        let mut response = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/problem+json")
            .body(Body::Text(body))
            .unwrap_or_default();
        let retry_after = match self {
            Self::TooManyRequests { retry_after_seconds } => Some(retry_after_seconds),
            Self::Unavailable => Some(5),
            Self::Contended | Self::Interrupted => Some(1),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Database failures that are not the client's: a cluster still resuming, contention and a
/// statement the database could not finish are 503 (try again), the rest 500.
/// Handlers turn the failures that are the client's (a unique violation they expect) into 409 first.
impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Resuming => Self::Unavailable,
            DbError::Database { sql_state, message }
                if crate::db::json_record::is_answer_too_large(&sql_state, &message) =>
            {
                Self::AnswerTooLarge
            }
            conflict if conflict.is_conflict() => Self::Contended,
            transient if transient.is_transient() => Self::Interrupted,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::db::DecodeError> for ApiError {
    fn from(error: crate::db::DecodeError) -> Self {
        Self::Internal(error.to_string())
    }
}

/// Collects field errors so one 422 names every invalid field, not just the first.
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// How many invalid fields are recorded so far.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Keeps the value, or records why `field` is invalid.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, ParseError>) -> Option<T> {
        parsed
            .map_err(|e| {
                self.errors.push(FieldError {
                    field: field.to_owned(),
                    message: e.to_string(),
                })
            })
            .ok()
    }

    /// As [`Self::check`], for an optional field.
    pub fn check_optional<T>(
        &mut self,
        field: &str,
        parsed: Option<Result<T, ParseError>>,
    ) -> Option<Option<T>> {
        match parsed {
            None => Some(None),
            Some(result) => self.check(field, result).map(Some),
        }
    }

    /// Records a rule that involves more than one field.
    pub fn reject(&mut self, field: &str, message: &str) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        });
    }

    /// Records that a change (a `PATCH`) sent no field at all.
    pub fn require_a_change(&mut self, nothing_sent: bool) {
        if nothing_sent {
            self.reject("body", "send at least one field to change");
        }
    }

    /// `Err(422)` when any field was invalid.
    ///
    /// # Errors
    /// [`ApiError::Validation`] listing every invalid field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// Reads a JSON body into `T` (whose fields are plain JSON types; domain parsing follows with
/// [`Fields`]). 413 over [`MAX_BODY_BYTES`], 415 unless the content type is JSON, 400 for
/// malformed JSON, 422 for a missing, unknown or mistyped field (`T` denies unknown fields).
///
/// # Errors
/// As above.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    json_body_within(request, MAX_BODY_BYTES)
}

/// As [`json_body`], for an endpoint that takes larger bodies (up to `limit` bytes).
///
/// # Errors
/// As [`json_body`].
pub fn json_body_within<T: DeserializeOwned>(request: &Request, limit: usize) -> Result<T, ApiError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    if bytes.len() > limit {
        return Err(ApiError::PayloadTooLarge {
            limit,
            what: "request body",
        });
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media_type != "application/json" && !media_type.ends_with("+json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::MalformedJson(
            "The request body is empty; send a JSON object.".to_owned(),
        ));
    }
    // Syntax first (400), then shape (422): a body can be both, and syntax is the client's first fault.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| malformed(&e))?;
    if let Some(field) = text_with_nul(&value, String::new()) {
        // PostgreSQL text cannot hold U+0000; refused here, it would otherwise fail the statement.
        return Err(ApiError::invalid(
            &field,
            "must not contain the NUL character (\\u0000)",
        ));
    }
    from_json_value(value)
}

/// The path (`a.b[2].c`, as 422s name fields) of the first string in `value` that holds U+0000.
fn text_with_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) if text.contains('\0') => {
            Some(if path.is_empty() { ".".to_owned() } else { path })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| text_with_nul(item, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            let field = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            text_with_nul(item, field)
        }),
        _ => None,
    }
}

/// The shape step of [`json_body`] on its own, for a handler that looked at the parsed body first
/// (e.g. to tell one item from a list) and should not parse the bytes again.
///
/// # Errors
/// 422 for a missing, unknown or mistyped field, named.
pub fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        let field = if path == "." {
            missing_or_unknown_field(&message)
        } else {
            path
        };
        ApiError::invalid(&field, data_message(&message))
    })
}

fn malformed(error: &serde_json::Error) -> ApiError {
    ApiError::MalformedJson(format!(
        "The body is not valid JSON: {}",
        strip_position(&error.to_string())
    ))
}

/// serde reports missing and unknown fields at the parent path; the name is in the message.
fn missing_or_unknown_field(message: &str) -> String {
    message.split('`').nth(1).unwrap_or("body").to_owned()
}

/// serde's message without its line/column suffix, and in words a client reads.
fn data_message(message: &str) -> String {
    let message = strip_position(message);
    if message.starts_with("missing field") {
        "is required".to_owned()
    } else if message.starts_with("unknown field") {
        "is not a known field".to_owned()
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        format!("has the wrong type ({rest})")
    } else {
        message
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// The caller's verified access token claims, from `Authorization: Bearer <jwt>`.
///
/// # Errors
/// 401 when the header is missing, not a bearer token, or the token does not verify.
pub fn bearer(request: &Request, keys: &TokenVerifier) -> Result<Claims, ApiError> {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized(
            "Send an access token: Authorization: Bearer <token>.",
        ))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or(ApiError::Unauthorized(
            "The Authorization header must be a Bearer token.",
        ))?;
    keys.verify(token.trim()).map_err(|error| {
        tracing::info!(%error, "access token refused");
        ApiError::Unauthorized("The access token is invalid or has expired.")
    })
}

/// 403 unless the caller has `role`.
///
/// # Errors
/// [`ApiError::Forbidden`].
pub fn require_role(claims: &Claims, role: Role) -> Result<(), ApiError> {
    if claims.role == role {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Your role in this household does not allow this.",
        ))
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Content,
    /// The resource's version, sent as `ETag`.
    pub etag: Option<String>,
    /// Top-level fields of a JSON body that are secrets the client sees only now (an invitation
    /// token): a repeat of the request (the same `Idempotency-Key`) answers them as `null`.
    pub secret_fields: &'static [&'static str],
}

/// What a successful answer carries.
#[derive(Debug)]
pub enum Content {
    None,
    /// A value's JSON text, sent as `application/json`. Serialized straight to text: a
    /// `serde_json::Value` cannot hold an integer past 64 bits, which a [`crate::domain::Total`]
    /// may be.
    Json(String),
    /// The answer could not be serialized: sent as a 500 problem.
    Unserializable(String),
    /// Text of its own content type (a page, a document), sent as it is.
    Text(&'static str, String),
}

/// `body` as JSON text, or why it could not be (never silently `null`).
fn json_content(body: &impl Serialize) -> Content {
    match serde_json::to_string(body) {
        Ok(text) => Content::Json(text),
        Err(error) => Content::Unserializable(error.to_string()),
    }
}

impl Reply {
    pub fn ok(body: &impl Serialize) -> Self {
        Self {
            status: StatusCode::OK,
            body: json_content(body),
            etag: None,
            secret_fields: &[],
        }
    }

    /// With the resource's version as its `ETag`.
    pub fn with_version(mut self, version: crate::version::Version) -> Self {
        self.etag = Some(version.etag());
        self
    }

    pub fn created(body: &impl Serialize) -> Self {
        Self {
            status: StatusCode::CREATED,
            body: json_content(body),
            etag: None,
            secret_fields: &[],
        }
    }

    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: Content::None,
            etag: None,
            secret_fields: &[],
        }
    }

    /// 200 with `text` as it is, of `content_type`.
    pub fn text(content_type: &'static str, text: String) -> Self {
        Self {
            status: StatusCode::OK,
            body: Content::Text(content_type, text),
            etag: None,
            secret_fields: &[],
        }
    }

    /// Marks `fields` of the body as secrets (see [`Self::secret_fields`]).
    pub fn with_secrets(mut self, fields: &'static [&'static str]) -> Self {
        self.secret_fields = fields;
        self
    }

    /// The response to a repeat of the request (the same `Idempotency-Key`): this one, with its
    /// secret fields answered as `null`.
    pub fn repeated_response(&self) -> Response<Body> {
        let body = match &self.body {
            Content::Json(text) if !self.secret_fields.is_empty() => {
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(serde_json::Value::Object(mut fields)) => {
                        for name in self.secret_fields {
                            if let Some(value) = fields.get_mut(*name) {
                                *value = serde_json::Value::Null;
                            }
                        }
                        Content::Json(serde_json::Value::Object(fields).to_string())
                    }
                    // Not an object: nothing to leave out, but a secret must not be kept either.
                    _ => Content::Unserializable("an answer with secrets is not a JSON object".to_owned()),
                }
            }
            Content::Json(text) => Content::Json(text.clone()),
            Content::Text(content_type, text) => Content::Text(content_type, text.clone()),
            Content::Unserializable(why) => Content::Unserializable(why.clone()),
            Content::None => Content::None,
        };
        Self {
            status: self.status,
            body,
            etag: self.etag.clone(),
            secret_fields: &[],
        }
        .into_response()
    }

    pub fn into_response(self) -> Response<Body> {
        let mut builder = Response::builder().status(self.status);
        if let Some(etag) = &self.etag {
            builder = builder.header(header::ETAG, etag);
        }
        match self.body {
            Content::Json(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::Text(body)),
            Content::Unserializable(why) => {
                tracing::error!(%why, "an answer could not be serialized");
                return ApiError::Internal(why).into_response("");
            }
            Content::Text(content_type, text) => builder
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::Text(text)),
            Content::None => builder.body(Body::Empty),
        }
        .unwrap_or_default()
    }
}

/// The client's address as API Gateway saw it (`requestContext.http.sourceIp`); requests without
/// one (none arrive so behind API Gateway) share the bucket `unknown`.
pub fn source_ip(request: &Request) -> String {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    }
    .unwrap_or_else(|| "unknown".to_owned())
}
