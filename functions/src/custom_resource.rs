//! What every CloudFormation custom resource function does around its own work: read the request,
//! and always PUT a response to its pre-signed `ResponseURL` (failures included, within
//! CloudFormation's 4 KiB), so a stack never waits for CloudFormation's hour-long timeout.
//!
//! See <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html>.

use std::collections::HashMap;
use std::time::Duration;

pub use aws_lambda_events::cloudformation::CloudFormationCustomResourceRequest as Request;
use aws_lambda_events::cloudformation::{
    CloudFormationCustomResourceResponse as Response, CloudFormationCustomResourceResponseStatus as Status,
};
use serde_json::Value;

/// CloudFormation refuses larger response bodies.
const MAX_RESPONSE_BYTES: usize = 4096;

/// What a request came to: the status, a reason people read, and data for `Fn::GetAtt`.
pub struct Outcome {
    status: Status,
    reason: String,
    pub data: HashMap<String, String>,
}

impl Outcome {
    pub fn success(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Success,
            reason: reason.into(),
            data: HashMap::new(),
        }
    }

    pub fn failed(reason: impl Into<String>) -> Self {
        Self {
            status: Status::Failed,
            reason: reason.into(),
            data: HashMap::new(),
        }
    }
}

/// The custom resource request in `event`.
///
/// # Errors
/// When `event` is not one.
pub fn parse(event: Value) -> Result<Request, serde_json::Error> {
    serde_json::from_value(event)
}

/// The new properties of a Create or Update.
pub fn properties(request: &Request) -> Option<&Value> {
    match request {
        Request::Create(r) => Some(&r.resource_properties),
        Request::Update(r) => Some(&r.resource_properties),
        _ => None,
    }
}

/// A property CloudFormation sends as text (or a number), read as a number; a version ARN
/// (`…:function:name:7`) reads as the version after its last `:`.
pub fn number(properties: &Value, name: &str) -> Option<i64> {
    match properties.get(name)? {
        Value::String(text) => text.rsplit(':').next()?.parse().ok(),
        Value::Number(number) => number.as_i64(),
        _ => None,
    }
}

/// Whether an update is a stack rollback: CloudFormation rolls an update back by sending another
/// with the previous properties, so one of `rising` (properties that only ever rise in a forward
/// deploy: a generation, a version) went down.
pub fn is_rollback(new: &Value, old: &Value, rising: &[&str]) -> bool {
    rising
        .iter()
        .any(|name| matches!((number(new, name), number(old, name)), (Some(new), Some(old)) if new < old))
}

/// Sends `outcome` for `request` under `physical_id` (which must never change: a new one makes
/// CloudFormation delete the "old" resource), and returns the response as sent.
pub async fn answer(http: &reqwest::Client, request: &Request, physical_id: &str, outcome: Outcome) -> Value {
    let response = response(request, physical_id, outcome);
    let body = serde_json::to_string(&response).unwrap_or_default();
    send(http, response_url(request), body).await;
    serde_json::to_value(&response).unwrap_or_default()
}

fn response_url(request: &Request) -> &str {
    match request {
        Request::Create(r) => &r.response_url,
        Request::Update(r) => &r.response_url,
        Request::Delete(r) => &r.response_url,
        _ => "",
    }
}

fn response(request: &Request, physical_id: &str, outcome: Outcome) -> Response {
    let mut response = Response::default();
    let (stack_id, request_id, logical_resource_id) = match request {
        Request::Create(r) => (&r.stack_id, &r.request_id, &r.logical_resource_id),
        Request::Update(r) => (&r.stack_id, &r.request_id, &r.logical_resource_id),
        Request::Delete(r) => (&r.stack_id, &r.request_id, &r.logical_resource_id),
        _ => return response,
    };
    response.status = outcome.status;
    response.physical_resource_id = physical_id.to_owned();
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
