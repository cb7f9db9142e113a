//! The HTTP face: the Data API's restJson1 routes, plus `/_local/*` routes for tests and tools.
//!
//! | route                          | what |
//! |--------------------------------|------|
//! | `POST /Execute`                | ExecuteStatement |
//! | `POST /BatchExecute`           | BatchExecuteStatement |
//! | `POST /BeginTransaction`       | BeginTransaction |
//! | `POST /CommitTransaction`      | CommitTransaction |
//! | `POST /RollbackTransaction`    | RollbackTransaction |
//! | `POST /ExecuteSql`             | refused, as Aurora Serverless v2 refuses it |
//! | `GET /_local/stats`            | call counters, overall and per database; errors answered |
//! | `POST /_local/stats/reset`     | zero the counters |
//! | `POST /_local/faults`          | inject a [`Fault`](crate::Fault); `DELETE` clears them |
//! | `GET /_local/health`           | `ok` |
//! | `POST /` + `X-Amz-Target: secretsmanager.GetSecretValue` | Secrets Manager's GetSecretValue, see [`crate::secrets`] |

use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorKind};
use crate::protocol::{
    BatchExecuteStatementRequest, BeginTransactionRequest, EndTransactionRequest, ExecuteStatementRequest,
};
use crate::secrets::GetSecretValueRequest;
use crate::service::{Fault, Operation, Service};

/// The router serving `service`.
pub fn router(service: Service) -> Router {
    let max_request_bytes = service.config().max_request_bytes;
    Router::new()
        .route("/Execute", post(execute))
        .route("/BatchExecute", post(batch_execute))
        .route("/BeginTransaction", post(begin))
        .route("/CommitTransaction", post(commit))
        .route("/RollbackTransaction", post(rollback))
        .route("/ExecuteSql", post(execute_sql))
        .route("/_local/stats", get(stats))
        .route("/_local/stats/reset", post(reset_stats))
        .route("/_local/faults", post(inject_fault).delete(clear_faults))
        .route("/_local/health", get(|| async { "ok" }))
        .route("/", post(aws_json))
        .layer(axum::middleware::from_fn(move |request, next| {
            within_request_limit(max_request_bytes, request, next)
        }))
        // The limit is the middleware's; axum's own default (2 MB) would cut requests sooner.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(service)
}

/// Refuses, unprocessed, a request whose headers and body together exceed `limit` bytes, as the
/// Data API does with requests over 4 MiB ("includes the size of the HTTP headers and the JSON
/// notation"). AWS does not document the error; this answers BadRequestException.
async fn within_request_limit(limit: usize, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    // As sent: request line, each `name: value` line, and the blank line.
    let head = parts.method.as_str().len()
        + " ".len()
        + parts.uri.to_string().len()
        + " HTTP/1.1\r\n".len()
        + parts
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>()
        + 2;
    let too_large = || {
        ApiError::bad_request(format!(
            "Request size exceeds the limit of {limit} bytes (headers and body together)"
        ))
        .into_response()
    };
    let Some(room) = limit.checked_sub(head) else {
        return too_large();
    };
    match axum::body::to_bytes(body, room).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        // Over the limit (or the client went away mid-body, when no answer reaches anyone).
        Err(_) => too_large(),
    }
}

/// The awsJson1.1 entry point; only Secrets Manager's `GetSecretValue` is served.
async fn aws_json(State(service): State<Service>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target != "secretsmanager.GetSecretValue" {
        return ApiError::new(
            ErrorKind::BadRequestException,
            format!("Unsupported operation {target:?}: data-api-local serves only secretsmanager.GetSecretValue here"),
        )
        .into_response();
    }
    let result = parse::<GetSecretValueRequest>(&body).and_then(|request| service.get_secret_value(&request));
    match result {
        Ok(answer) => (
            StatusCode::OK,
            [("content-type", "application/x-amz-json-1.1")],
            axum::Json(answer),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        ApiError::new(
            ErrorKind::SerializationException,
            format!("Invalid request body: {error}"),
        )
    })
}

/// Answers an operation's result as the SDK expects it, and logs the call.
fn answer<T: Serialize>(
    service: &Service,
    operation: Operation,
    started: Instant,
    result: Result<T, ApiError>,
) -> Response {
    answer_with(service, operation, started, result.map(axum::Json))
}

/// As [`answer`], for a body that is already a response (ExecuteStatement's, serialized once).
fn answer_with<T: IntoResponse>(
    service: &Service,
    operation: Operation,
    started: Instant,
    result: Result<T, ApiError>,
) -> Response {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(body) => {
            tracing::debug!(?operation, elapsed_ms, "ok");
            (StatusCode::OK, body).into_response()
        }
        Err(error) => {
            tracing::debug!(?operation, elapsed_ms, error = %error, "error");
            service.count_error(&error);
            error.into_response()
        }
    }
}

async fn execute(State(service): State<Service>, body: Bytes) -> Response {
    let started = Instant::now();
    let result = async {
        let request: ExecuteStatementRequest = parse(&body)?;
        tracing::debug!(
            sql = request.sql.as_deref().unwrap_or_default(),
            "ExecuteStatement"
        );
        service.execute_statement(request).await
    };
    answer_with(&service, Operation::ExecuteStatement, started, result.await)
}

async fn batch_execute(State(service): State<Service>, body: Bytes) -> Response {
    let started = Instant::now();
    let result = async {
        let request: BatchExecuteStatementRequest = parse(&body)?;
        service.batch_execute_statement(request).await
    };
    answer(&service, Operation::BatchExecuteStatement, started, result.await)
}

async fn begin(State(service): State<Service>, body: Bytes) -> Response {
    let started = Instant::now();
    let result = async {
        service
            .begin_transaction(parse::<BeginTransactionRequest>(&body)?)
            .await
    };
    answer(&service, Operation::BeginTransaction, started, result.await)
}

async fn commit(State(service): State<Service>, body: Bytes) -> Response {
    let started = Instant::now();
    let result = async {
        service
            .end_transaction(parse::<EndTransactionRequest>(&body)?, true)
            .await
    };
    answer(&service, Operation::CommitTransaction, started, result.await)
}

async fn rollback(State(service): State<Service>, body: Bytes) -> Response {
    let started = Instant::now();
    let result = async {
        service
            .end_transaction(parse::<EndTransactionRequest>(&body)?, false)
            .await
    };
    answer(&service, Operation::RollbackTransaction, started, result.await)
}

/// `ExecuteSql` served Aurora Serverless v1 only; v2 clusters answer it as unsupported.
async fn execute_sql(State(service): State<Service>) -> Response {
    let started = Instant::now();
    let result: Result<(), ApiError> = service.refuse_execute_sql();
    answer(&service, Operation::ExecuteSql, started, result)
}

async fn stats(State(service): State<Service>) -> Response {
    axum::Json(service.stats()).into_response()
}

async fn reset_stats(State(service): State<Service>) -> StatusCode {
    service.reset_stats();
    StatusCode::NO_CONTENT
}

async fn inject_fault(State(service): State<Service>, body: Bytes) -> Response {
    match serde_json::from_slice::<Fault>(&body) {
        Ok(fault) => {
            service.inject(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    }
}

async fn clear_faults(State(service): State<Service>) -> StatusCode {
    service.clear_faults();
    StatusCode::NO_CONTENT
}
