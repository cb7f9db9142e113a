//! The glue between Lambda and a handler: run it with a per-request call counter, turn its
//! result into a response (errors as problem details), and log one line per request.

use std::time::{Duration, Instant};

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::db::RetryPolicy;
use shared::http::{ApiError, Reply, Route};

use crate::app::App;

/// Runs `handle` for `request` on `route` and always produces a response.
///
/// # Errors
/// None in practice; the signature is what `lambda_http` expects.
pub async fn respond<F, Fut>(
    app: &App,
    route: Route,
    request: Request,
    handle: F,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(App, Request) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let started = Instant::now();
    let request_id = request_id(&request);
    let app = App {
        db: app.db.counting().with_retry(retry_policy(&request)),
        tokens: app.tokens.clone(),
        signing: app.signing.clone(),
    };
    let db = app.db.clone();
    let writing = shared::http::writes(request.method().as_str());
    let answer = match crate::idempotency::Scope::of(&request) {
        Ok(key) => {
            // Boxed: a handler's future is large, and the task-local scope would carry it on the
            // stack once more.
            let handled = Box::pin(crate::access::serving(writing, key.clone(), handle(app, request)));
            match key {
                None => handled.await.map(Reply::into_response),
                Some(scope) => keyed(&db, &scope, handled, &request_id).await,
            }
        }
        Err(error) => Err(error),
    };
    let response = answer.unwrap_or_else(|error| problem(error, &request_id));
    tracing::info!(
        route = %route,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        data_api_calls = db.calls(),
        %request_id,
        "request"
    );
    Ok(response)
}

/// Runs a request that carries an `Idempotency-Key` (see [`crate::idempotency`]): its statement
/// claimed the key and kept its answer, or answered an earlier request's kept rows, from which the
/// handler built the same answer again; such a repeat is marked, and leaves out the secrets an
/// answer shows only once.
async fn keyed(
    db: &shared::db::Db,
    scope: &crate::idempotency::Scope,
    handled: impl Future<Output = Result<Reply, ApiError>>,
    request_id: &str,
) -> Result<Response<Body>, ApiError> {
    let outcome = handled.await;
    if let Err(ApiError::KeyTaken) = outcome {
        return crate::idempotency::replay_kept_before_upgrade(db, scope).await;
    }
    if !scope.repeated() {
        return outcome.map(Reply::into_response);
    }
    let mut response = match outcome {
        Ok(reply) => reply.repeated_response(),
        Err(error) => problem(error, request_id),
    };
    response.headers_mut().insert(
        crate::idempotency::REPLAYED,
        lambda_http::http::HeaderValue::from_static("true"),
    );
    Ok(response)
}

/// The problem document for `error`; server errors are logged with the request id they quote.
fn problem(error: ApiError, request_id: &str) -> Response<Body> {
    if error.status().is_server_error() {
        tracing::error!(%error, %request_id, "request failed");
    }
    error.into_response(request_id)
}

/// Time kept back from the invocation's deadline to answer: a request still waiting for a
/// resuming cluster then answers 503 with `Retry-After` instead of being cut off by Lambda (and
/// seen by the client as a gateway error).
pub const ANSWER_MARGIN: Duration = Duration::from_secs(2);

/// Retries of an auto-paused cluster end [`ANSWER_MARGIN`] before the invocation's deadline, so
/// the function's `Timeout` in template.yaml is the one setting that bounds a request.
fn retry_policy(request: &Request) -> RetryPolicy {
    let policy = RetryPolicy::default();
    match request.lambda_context_ref() {
        Some(context) => {
            let answer_by = crate::deadline::remaining(context).saturating_sub(ANSWER_MARGIN);
            RetryPolicy {
                give_up_at: Some(Instant::now() + answer_by),
                ..policy
            }
        }
        None => policy,
    }
}

fn request_id(request: &Request) -> String {
    if let Some(context) = request.lambda_context_ref() {
        return context.request_id.clone();
    }
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone().unwrap_or_default(),
        _ => String::new(),
    }
}
