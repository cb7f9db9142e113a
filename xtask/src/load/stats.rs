//! What the run measured, per endpoint: requests, answers by status, latency, and the Data API
//! calls each request made (read from the functions' own JSON logs, as CloudWatch would show them).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use shared::http::Route;

use super::client::Answer;
use crate::bench::functions::percentile;
use crate::bench::ms;

#[derive(Default)]
struct Endpoint {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, u64>,
    /// From the functions' `request` log lines: requests logged, and their Data API calls.
    logged: u64,
    calls: u64,
}

#[derive(Default)]
struct Inner {
    endpoints: HashMap<String, Endpoint>,
    /// 5xx answers other than 503: each one fails the run.
    unexpected: Vec<String>,
    /// The functions' ERROR log lines (the first few), to explain them.
    error_logs: Vec<String>,
    /// 503 answers by problem type (unavailable, contended, interrupted).
    unavailable: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct Stats {
    inner: Mutex<Inner>,
}

pub type SharedStats = Arc<Stats>;

fn name(route: Route) -> String {
    format!("{} {}", route.method, route.path)
}

impl Stats {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One invocation and how it ended (502: the instance was killed).
    pub fn record(&self, route: Route, status: u16, latency: Duration) {
        let mut inner = self.lock();
        let endpoint = inner.endpoints.entry(name(route)).or_default();
        endpoint.latencies.push(latency);
        *endpoint.statuses.entry(status).or_default() += 1;
    }

    /// A 503, counted by its problem type.
    pub fn unavailable(&self, answer: &Answer) {
        let kind = answer.body["type"]
            .as_str()
            .unwrap_or("(no problem document)")
            .to_owned();
        *self.lock().unavailable.entry(kind).or_default() += 1;
    }

    pub fn unavailable_by_type(&self) -> BTreeMap<String, u64> {
        self.lock().unavailable.clone()
    }

    /// A server error that no injected fault explains.
    pub fn unexpected(&self, route: Route, answer: &Answer) {
        let line = format!("{} answered {}: {}", name(route), answer.status, answer.text);
        self.lock().unexpected.push(line);
    }

    /// One line of a function's log.
    pub fn log_line(&self, line: &str) {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            return;
        };
        let fields = &entry["fields"];
        let mut inner = self.lock();
        if entry["level"] == "ERROR" && inner.error_logs.len() < 20 {
            inner.error_logs.push(line.to_owned());
        }
        if fields["message"] == "request" {
            let (Some(route), Some(calls)) = (fields["route"].as_str(), fields["data_api_calls"].as_u64())
            else {
                return;
            };
            let endpoint = inner.endpoints.entry(route.to_owned()).or_default();
            endpoint.logged += 1;
            endpoint.calls += calls;
        }
    }

    pub fn unexpected_errors(&self) -> Vec<String> {
        self.lock().unexpected.clone()
    }

    pub fn error_logs(&self) -> Vec<String> {
        self.lock().error_logs.clone()
    }

    /// Invocations, and how many of them answered `status`.
    pub fn totals(&self) -> (u64, BTreeMap<u16, u64>) {
        let inner = self.lock();
        let mut statuses = BTreeMap::new();
        let mut requests = 0;
        for endpoint in inner.endpoints.values() {
            requests += endpoint.latencies.len() as u64;
            for (status, count) in &endpoint.statuses {
                *statuses.entry(*status).or_default() += count;
            }
        }
        (requests, statuses)
    }

    /// The per-endpoint table, in the order of `functions::registry`.
    pub fn table(&self, elapsed: Duration) -> String {
        let inner = self.lock();
        let mut out = String::from(
            "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | Data API calls/request | answers |\n\
             |---|---:|---:|---:|---:|---:|---:|---|\n",
        );
        for registered in functions::ENDPOINTS {
            let Some(endpoint) = inner.endpoints.get(&name(registered.route)) else {
                continue;
            };
            let mut sorted = endpoint.latencies.clone();
            if sorted.is_empty() {
                continue;
            }
            sorted.sort();
            let calls = if endpoint.logged == 0 {
                "–".to_owned()
            } else {
                format!("{:.2}", endpoint.calls as f64 / endpoint.logged as f64)
            };
            let answers: Vec<String> = endpoint
                .statuses
                .iter()
                .map(|(s, n)| format!("{s}×{n}"))
                .collect();
            let _ = writeln!(
                out,
                "| `{}` | {} | {:.1} | {:.1} | {:.1} | {:.1} | {calls} | {} |",
                name(registered.route),
                sorted.len(),
                sorted.len() as f64 / elapsed.as_secs_f64(),
                ms(percentile(&sorted, 0.50)),
                ms(percentile(&sorted, 0.95)),
                ms(percentile(&sorted, 0.99)),
                answers.join(" "),
            );
        }
        out
    }

    /// p50/p95/p99 over every request.
    pub fn overall_percentiles(&self) -> [Duration; 3] {
        let inner = self.lock();
        let mut all: Vec<Duration> = inner
            .endpoints
            .values()
            .flat_map(|e| e.latencies.clone())
            .collect();
        all.sort();
        [
            percentile(&all, 0.50),
            percentile(&all, 0.95),
            percentile(&all, 0.99),
        ]
    }
}
