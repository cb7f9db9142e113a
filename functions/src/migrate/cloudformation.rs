//! The CloudFormation custom resource that migrates the database on every deploy.
//!
//! - `Create` and `Update` apply pending migrations; `Delete` leaves the data alone. Both first
//!   check that the newest embedded migration is the template's `SchemaVersion`: a function built
//!   from another checkout (or with no migrations at all) answers FAILED, never SUCCESS.
//! - An `Update` whose new `SchemaVersion` property is older than the old one is a stack rollback:
//!   the database keeps its newer schema (migrations are expand-only, so old code runs on it) and
//!   the answer is SUCCESS without touching it. Failing here would leave the stack in
//!   UPDATE_ROLLBACK_FAILED.
//! - A response is always PUT to `ResponseURL`, failures included, and a watchdog answers FAILED
//!   shortly before the Lambda deadline if the work has not finished, so a stack never hangs for
//!   CloudFormation's hour-long timeout.
//!
//! See <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html>.

use std::collections::HashMap;
use std::time::Duration;

use aws_lambda_events::cloudformation::{
    CloudFormationCustomResourceRequest as Request, CloudFormationCustomResourceResponse as Response,
    CloudFormationCustomResourceResponseStatus as Status,
};
use serde_json::Value;
use shared::migrate;

use super::{Error, Invocation, Migrator};

/// Never changes: a new id would make CloudFormation delete the "old" resource.
pub const PHYSICAL_RESOURCE_ID: &str = "budget-schema-migrations";

/// CloudFormation refuses larger response bodies.
const MAX_RESPONSE_BYTES: usize = 4096;

/// The custom resource's properties that this function reads (CloudFormation sends strings).
const SCHEMA_VERSION: &str = "SchemaVersion";

struct Outcome {
    status: Status,
    reason: String,
    data: HashMap<String, String>,
}

impl Outcome {
    fn success(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Success,
            reason: reason.into(),
            data: HashMap::new(),
        }
    }

    fn failed(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Failed,
            reason: reason.into(),
            data: HashMap::new(),
        }
    }
}

/// Answers a custom resource request when the function could not start (its configuration is
/// missing or broken): FAILED with the reason for Create and Update, so the deploy stops at once
/// instead of waiting for CloudFormation's timeout; SUCCESS for Delete, which would do nothing
/// anyway and must not block deleting the stack.
///
/// # Errors
/// [`Error::UnrecognisedEvent`] when the request cannot be read.
pub async fn answer_unconfigured(http: &reqwest::Client, event: Value, reason: &str) -> Result<Value, Error> {
    let request: Request =
        serde_json::from_value(event).map_err(|e| Error::UnrecognisedEvent(e.to_string()))?;
    let outcome = match request {
        Request::Delete(_) => Outcome::success("the database and its data are left in place"),
        _ => Outcome::failed(format!("the migrate function could not start: {reason}")),
    };
    let response = response(&request, outcome);
    send(
        http,
        response_url(&request),
        serde_json::to_string(&response).unwrap_or_default(),
    )
    .await;
    Ok(serde_json::to_value(&response).unwrap_or_default())
}

/// Handles a custom resource request and sends its response.
///
/// # Errors
/// [`Error::UnrecognisedEvent`] when the request cannot be read (then there is nowhere to answer).
pub async fn handle(migrator: &Migrator, event: Value, invocation: Invocation) -> Result<Value, Error> {
    let request: Request =
        serde_json::from_value(event).map_err(|e| Error::UnrecognisedEvent(e.to_string()))?;
    let watchdog = migrator.margins(invocation).watchdog;
    let watchdog_at = invocation
        .deadline
        .checked_sub(watchdog)
        .unwrap_or(invocation.deadline);
    let outcome = tokio::select! {
        outcome = work(migrator, &request, invocation) => outcome,
        () = tokio::time::sleep_until(watchdog_at.into()) => Outcome::failed(
            "the migration did not finish before the Lambda deadline; nothing was committed",
        ),
    };
    let response = response(&request, outcome);
    let body = serde_json::to_string(&response).unwrap_or_default();
    send(&migrator.http, response_url(&request), body).await;
    Ok(serde_json::to_value(&response).unwrap_or_default())
}

async fn work(migrator: &Migrator, request: &Request, invocation: Invocation) -> Outcome {
    match request {
        Request::Delete(_) => Outcome::success("the database and its data are left in place"),
        Request::Update(update)
            if is_rollback(&update.resource_properties, &update.old_resource_properties) =>
        {
            Outcome::success("stack rollback: the database keeps its newer schema, which older code runs on")
        }
        Request::Create(_) | Request::Update(_) => match apply(migrator, request, invocation).await {
            Ok(report) => {
                let applied: Vec<String> = report.steps.iter().map(|s| format!("{:04}", s.version)).collect();
                let mut outcome = Outcome::success(if applied.is_empty() {
                    "no pending migrations".to_owned()
                } else {
                    format!("applied {}", applied.join(", "))
                });
                outcome.data.insert("Applied".into(), applied.join(","));
                outcome
                    .data
                    .insert("CurrentVersion".into(), format!("{:04}", report.current_version));
                outcome
            }
            Err(error) => {
                tracing::error!(%error, "migration failed");
                Outcome::failed(error.to_string())
            }
        },
        // `Request` is non-exhaustive; a request type CloudFormation adds later changes nothing here.
        _ => Outcome::success("nothing to do for this request type"),
    }
}

/// Applies pending migrations after checking that this build carries the schema version the
/// template names, so a function built from another checkout fails the deploy instead of
/// answering SUCCESS with the wrong schema.
async fn apply(
    migrator: &Migrator,
    request: &Request,
    invocation: Invocation,
) -> Result<migrate::Report, Error> {
    let properties = match request {
        Request::Create(r) => Some(&r.resource_properties),
        Request::Update(r) => Some(&r.resource_properties),
        _ => None,
    };
    if let Some(expected) = properties.and_then(schema_version) {
        migrator.expect_version(expected)?;
    }
    migrator.up(invocation).await
}

fn schema_version(properties: &Value) -> Option<i64> {
    match properties.get(SCHEMA_VERSION)? {
        Value::String(text) => text.parse().ok(),
        Value::Number(number) => number.as_i64(),
        _ => None,
    }
}

/// CloudFormation rolls an update back by sending another update with the previous properties.
fn is_rollback(new: &Value, old: &Value) -> bool {
    matches!((schema_version(new), schema_version(old)), (Some(new), Some(old)) if new < old)
}

fn response_url(request: &Request) -> &str {
    match request {
        Request::Create(r) => &r.response_url,
        Request::Update(r) => &r.response_url,
        Request::Delete(r) => &r.response_url,
        _ => "",
    }
}

fn response(request: &Request, outcome: Outcome) -> Response {
    let mut response = Response::default();
    let (stack_id, request_id, logical_resource_id) = match request {
        Request::Create(r) => (&r.stack_id, &r.request_id, &r.logical_resource_id),
        Request::Update(r) => (&r.stack_id, &r.request_id, &r.logical_resource_id),
        Request::Delete(r) => (&r.stack_id, &r.request_id, &r.logical_resource_id),
        _ => return response,
    };
    response.status = outcome.status;
    response.physical_resource_id = PHYSICAL_RESOURCE_ID.to_owned();
    response.stack_id.clone_from(stack_id);
    response.request_id.clone_from(request_id);
    response.logical_resource_id.clone_from(logical_resource_id);
    response.reason = Some(outcome.reason);
    response.data = outcome.data;
    fit(&mut response);
    response
}

/// Shortens the reason (and drops data, if need be) until the body fits CloudFormation's limit.
fn fit(response: &mut Response) {
    let size = |r: &Response| serde_json::to_vec(r).map(|b| b.len()).unwrap_or(usize::MAX);
    while size(response) > MAX_RESPONSE_BYTES {
        let reason = response.reason.get_or_insert_with(String::new);
        if reason.chars().count() > 64 {
            let keep = reason.chars().count() / 2;
            *reason = reason.chars().take(keep).collect::<String>() + "…";
        } else if response.data.is_empty() {
            break;
        } else {
            response.data.clear();
        }
    }
}

/// PUTs the response to the pre-signed S3 URL, a few times if the network fails. The
/// content type must be empty: the URL was signed without one.
async fn send(http: &reqwest::Client, url: &str, body: String) {
    for attempt in 1..=3 {
        let result = http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "")
            .body(body.clone())
            .send()
            .await;
        match result.map(|r| r.error_for_status()) {
            Ok(Ok(_)) => return,
            Ok(Err(error)) => tracing::warn!(%error, attempt, "CloudFormation refused the response"),
            Err(error) => tracing::warn!(%error, attempt, "sending the response to CloudFormation failed"),
        }
        tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
    }
    tracing::error!("gave up sending the response to CloudFormation; the stack will wait for its timeout");
}
