//! A phone of the household: sends API Gateway HTTP API (v2) events to the fleet, as API Gateway
//! would for its HTTPS requests, and retries as a careful client does: after a 503 or a gateway
//! error, with the same `Idempotency-Key`, and a write without a key never.

use std::time::Duration;

use serde_json::Value;
use shared::http::Route;

use super::fleet::{Invocation, SharedFleet};
use super::stats::SharedStats;

/// One request, as the client means it.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    pub token: Option<String>,
    pub if_match: Option<String>,
    pub key: Option<String>,
}

impl Call {
    pub fn new(method: &'static str, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            token: None,
            if_match: None,
            key: None,
        }
    }

    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    pub fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    pub fn if_match(mut self, tag: Option<&str>) -> Self {
        self.if_match = tag.map(str::to_owned);
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The API Gateway event for this request.
    fn event(&self) -> Value {
        let mut headers: Vec<(&str, String)> = Vec::new();
        if self.body.is_some() {
            headers.push(("content-type", "application/json".to_owned()));
        }
        if let Some(token) = &self.token {
            headers.push(("authorization", format!("Bearer {token}")));
        }
        if let Some(tag) = &self.if_match {
            headers.push(("if-match", tag.clone()));
        }
        if let Some(key) = &self.key {
            headers.push(("idempotency-key", key.clone()));
        }
        let borrowed: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = self.body.as_ref().map(Value::to_string);
        let mut event = harness::app::event(self.method, &self.path, &borrowed, body.as_deref());
        let query: Vec<(&str, &str)> = self.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        harness::app::add_query(&mut event, &query);
        event
    }
}

/// A definitive answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Value,
    pub body: Value,
    /// The raw body, to compare a replay byte for byte.
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers[name].as_str()
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn from_gateway(response: &Value) -> Self {
        let text = response["body"].as_str().unwrap_or_default().to_owned();
        Self {
            status: u16::try_from(response["statusCode"].as_u64().unwrap_or(0)).unwrap_or(0),
            headers: response["headers"].clone(),
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }
}

/// What the client finally knows of a request.
#[derive(Clone, Debug)]
pub enum Outcome {
    Answered(Answer),
    /// No definitive answer: the instance died with it, and retrying could not tell (a write
    /// without a key, or a key whose first request's answer was lost).
    Unknown,
}

impl Outcome {
    pub fn answer(&self) -> Option<&Answer> {
        match self {
            Self::Answered(answer) => Some(answer),
            Self::Unknown => None,
        }
    }

    pub fn ok(&self) -> bool {
        self.answer().is_some_and(Answer::ok)
    }
}

/// How often a request is sent at most, first try included.
const ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct Client {
    pub fleet: SharedFleet,
    pub stats: SharedStats,
}

impl Client {
    /// Sends `call`, retrying what is safe to retry; never fails for the server's answers.
    pub async fn send(&self, call: &Call) -> anyhow::Result<Outcome> {
        let (binary, route) = route_of(call.method, &call.path)?;
        let event = call.event().to_string();
        let writes = call.method != "GET";
        let mut lost = false;
        for attempt in 1..=ATTEMPTS {
            let invocation = self.fleet.invoke(binary, &event).await?;
            let answer = match invocation {
                Invocation::Killed { latency } => {
                    self.stats.record(route, 502, latency);
                    lost = true;
                    if writes && call.key.is_none() {
                        return Ok(Outcome::Unknown);
                    }
                    pause(attempt).await;
                    continue;
                }
                Invocation::Answered { response, latency } => {
                    let answer = Answer::from_gateway(&response);
                    self.stats.record(route, answer.status, latency);
                    answer
                }
            };
            if answer.status == 503 {
                self.stats.unavailable(&answer);
                pause(attempt).await;
                continue;
            }
            // A key whose first request died after its write: the answer is gone for good (409
            // "still running" for 30 s, then "ended without an answer").
            if lost && answer.status == 409 && answer.text.contains("Idempotency-Key") {
                return Ok(Outcome::Unknown);
            }
            if answer.status >= 500 {
                self.stats.unexpected(route, &answer);
            }
            return Ok(Outcome::Answered(answer));
        }
        Ok(Outcome::Unknown)
    }
}

impl Client {
    /// Sends `calls` at once, racing each other; their outcomes in order.
    pub async fn send_all<'a>(
        &self,
        calls: impl IntoIterator<Item = &'a Call>,
    ) -> anyhow::Result<Vec<Outcome>> {
        futures_util::future::join_all(calls.into_iter().map(|call| self.send(call)))
            .await
            .into_iter()
            .collect()
    }
}

/// A short random pause before trying again. Shorter than `Retry-After` asks (1–5 s), so the run
/// keeps pressing on the database while faults are being injected.
async fn pause(attempt: usize) {
    let most = 40 * u64::try_from(attempt).unwrap_or(1);
    tokio::time::sleep(Duration::from_millis(rand::random_range(10..=most))).await;
}

/// The function binary serving `method path`, and its route as template.yaml names it.
fn route_of(method: &str, path: &str) -> anyhow::Result<(&'static str, Route)> {
    functions::ENDPOINTS
        .iter()
        .find(|e| e.route.method == method && e.route.match_path(path).is_some())
        .map(|e| (e.name, e.route))
        .ok_or_else(|| anyhow::anyhow!("no endpoint serves {method} {path}"))
}
