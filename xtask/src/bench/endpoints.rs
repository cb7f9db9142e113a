//! Each endpoint called in-process with real API Gateway events, against data-api-local on the
//! local PostgreSQL: Data API calls per request (from the emulator's counters) and latency.

use std::time::{Duration, Instant};

use harness::TestApp;
use serde_json::{Value, json};

/// One endpoint's measurements.
pub struct EndpointResult {
    pub binary: &'static str,
    pub route: String,
    pub budget: f64,
    pub calls_per_request: f64,
    pub median: Duration,
    pub p95: Duration,
    pub samples: usize,
}

const PASSWORD: &str = "correct horse battery staple";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn measure<F, Fut>(
    app: &TestApp,
    binary: &'static str,
    budget: f64,
    samples: usize,
    mut request: F,
) -> anyhow::Result<EndpointResult>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = harness::TestResponse>,
{
    let route = functions::ENDPOINTS
        .iter()
        .find(|(name, _)| *name == binary)
        .map(|(_, route)| route.to_string())
        .unwrap_or_default();
    // Warm up: first use of pools and caches.
    for i in 0..3 {
        request(samples + i).await;
    }
    app.reset_calls();
    let mut durations = Vec::with_capacity(samples);
    for i in 0..samples {
        let started = Instant::now();
        let response = request(i).await;
        durations.push(started.elapsed());
        anyhow::ensure!(
            response.status < 400,
            "{binary} answered {}: {}",
            response.status,
            response.body
        );
    }
    durations.sort();
    Ok(EndpointResult {
        binary,
        route,
        budget,
        calls_per_request: app.calls() as f64 / samples as f64,
        median: percentile(&durations, 0.5),
        p95: percentile(&durations, 0.95),
        samples,
    })
}

/// Measures every endpoint; argon2-bound ones (register, login) with fewer samples.
pub async fn run(samples: usize) -> anyhow::Result<Vec<EndpointResult>> {
    let app = TestApp::spawn().await?;
    let slow = (samples / 5).max(10);
    let mut results = Vec::new();

    results.push(
        measure(&app, "auth-register", 1.0, slow, |i| {
            let body = json!({"email": format!("register-{i}@bench.example"), "password": PASSWORD, "display_name": "Bench"});
            let app = &app;
            async move { app.post_register(&body).await }
        })
        .await?,
    );

    let owner = app.register("owner@bench.example").await;
    let login = json!({"email": "owner@bench.example", "password": "correct horse battery"});
    results.push(
        measure(&app, "auth-login", 2.0, slow, |_| {
            let (app, body) = (&app, login.clone());
            async move { app.post_login(&body).await }
        })
        .await?,
    );

    // Refresh rotates: each request presents the token the previous one returned.
    let token = std::cell::RefCell::new(owner["refresh_token"].clone());
    results.push(
        measure(&app, "auth-refresh", 1.0, samples, |_| {
            let (app, token) = (&app, &token);
            async move {
                let presented = token.borrow().clone();
                let response = app.post_refresh(&json!({"refresh_token": presented})).await;
                *token.borrow_mut() = response.body["refresh_token"].clone();
                response
            }
        })
        .await?,
    );

    // Logout needs a live session per request; open them first (not measured).
    let mut sessions: Vec<Value> = Vec::new();
    for _ in 0..samples + 3 {
        let session = app.post_login(&login).await;
        sessions.push(session.body["refresh_token"].clone());
    }
    results.push(
        measure(&app, "auth-logout", 1.0, samples, |i| {
            let (app, token) = (&app, sessions[i].clone());
            async move { app.post_logout(&json!({"refresh_token": token})).await }
        })
        .await?,
    );

    let access = owner["access_token"].as_str().unwrap_or_default().to_owned();
    results.push(
        measure(&app, "me", 1.0, samples, |_| {
            let (app, access) = (&app, access.clone());
            async move { app.get_me(Some(&access)).await }
        })
        .await?,
    );
    Ok(results)
}
