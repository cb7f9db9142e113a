//! The release function binaries, run as Lambda runs them: cold starts, and warm requests against
//! the release data-api-local with the Data API calls each request makes.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::runtime::RuntimeApi;

/// Medians over several cold starts of one binary.
pub struct ColdStart {
    pub binary: &'static str,
    /// Exec → first `GET …/invocation/next`.
    pub init: Duration,
    /// Exec → the first answer posted back.
    pub first_response: Duration,
    pub size: u64,
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
    sorted.get(rank).copied().unwrap_or_default()
}

/// Starts `binary` `starts` times, each answering one `event` that needs no database.
pub async fn cold_start(
    binary: &'static str,
    path: &Path,
    environment: &[(&str, String)],
    event: &Value,
    starts: usize,
) -> anyhow::Result<ColdStart> {
    let (mut inits, mut firsts) = (Vec::new(), Vec::new());
    for _ in 0..starts {
        let runtime = RuntimeApi::start().await?;
        let function = runtime.spawn(path, environment)?;
        let answer = runtime.invoke(&event.to_string()).await?;
        let first_next = runtime
            .first_next()
            .ok_or_else(|| anyhow::anyhow!("{binary} never asked for work"))?;
        inits.push(first_next - function.spawned);
        firsts.push(answer.at - function.spawned);
    }
    Ok(ColdStart {
        binary,
        init: median(inits),
        first_response: median(firsts),
        size: std::fs::metadata(path)?.len(),
    })
}

/// One endpoint, warm.
pub struct Endpoint {
    pub binary: &'static str,
    pub route: String,
    pub budget: f64,
    pub calls_per_request: f64,
    /// For an endpoint that takes an `Idempotency-Key`: Data API calls of a keyed request, and of
    /// its repeat (answered from the kept record).
    pub keyed_calls: Option<(u64, u64)>,
    pub median: Duration,
    pub p95: Duration,
    pub samples: usize,
}

/// The HTTP status and JSON body of a lambda_http answer.
pub fn http(answer: &Value) -> (u64, Value) {
    let status = answer["statusCode"].as_u64().unwrap_or(0);
    let body = answer["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

pub fn post(path: &str, body: &Value) -> String {
    harness::app::event(
        "POST",
        path,
        &[("content-type", "application/json")],
        Some(&body.to_string()),
    )
    .to_string()
}

/// `event` with an `Idempotency-Key` header of its own.
fn with_key(event: &str, binary: &str) -> anyhow::Result<String> {
    let mut event: Value = serde_json::from_str(event)?;
    let headers = event["headers"]
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("{binary}'s event has no headers"))?;
    headers.insert("idempotency-key".to_owned(), json!(format!("bench-{binary}")));
    Ok(event.to_string())
}

/// Reads the emulator's call counter for `database`.
async fn calls(http: &reqwest::Client, emulator: &str, database: &str) -> anyhow::Result<u64> {
    let stats: Value = http
        .get(format!("{emulator}/_local/stats"))
        .send()
        .await?
        .json()
        .await?;
    Ok(stats["databases"][database]["total"].as_u64().unwrap_or(0))
}

pub struct Setup<'a> {
    pub target: &'a Path,
    pub environment: &'a [(&'a str, String)],
    pub emulator: &'a str,
    pub database: &'a str,
    pub samples: usize,
}

/// Warm requests to one endpoint: `request(i, previous answer)` builds the i-th event, and `carry`
/// sees every answer (to thread a rotated token into the next request).
pub async fn measure(
    setup: &Setup<'_>,
    binary: &'static str,
    samples: usize,
    mut request: impl FnMut(usize, &Value) -> String,
    mut carry: impl FnMut(&Value),
) -> anyhow::Result<Endpoint> {
    let registered = functions::ENDPOINTS
        .iter()
        .find(|e| e.name == binary)
        .ok_or_else(|| anyhow::anyhow!("{binary} is not in functions::registry"))?;
    let (route, budget) = (registered.route.to_string(), f64::from(registered.budget));
    let client = reqwest::Client::new();
    let runtime = RuntimeApi::start().await?;
    let _function = runtime.spawn(&setup.target.join(binary), setup.environment)?;
    let mut last = Value::Null;
    for i in 0..3 {
        let answer = runtime.invoke(&request(samples + i, &last)).await?;
        last = http(&answer.body).1;
        carry(&last);
    }
    let before = calls(&client, setup.emulator, setup.database).await?;
    let mut latencies = Vec::with_capacity(samples);
    for i in 0..samples {
        let answer = runtime.invoke(&request(i, &last)).await?;
        let (status, body) = http(&answer.body);
        anyhow::ensure!((200..300).contains(&status), "{binary} answered {status}: {body}");
        latencies.push(answer.latency);
        carry(&body);
        last = body;
    }
    let after = calls(&client, setup.emulator, setup.database).await?;
    let keyed_calls = if (registered.doc)().keyed() {
        // The last warm-up's request again, with a key: whatever it answers now is kept and
        // repeated, and the calls are those of every keyed write.
        let event = with_key(&request(samples + 2, &last), binary)?;
        let mut counted = [0; 2];
        for count in &mut counted {
            let start = calls(&client, setup.emulator, setup.database).await?;
            runtime.invoke(&event).await?;
            *count = calls(&client, setup.emulator, setup.database).await? - start;
        }
        Some((counted[0], counted[1]))
    } else {
        None
    };
    latencies.sort();
    Ok(Endpoint {
        binary,
        route,
        budget,
        calls_per_request: (after - before) as f64 / samples as f64,
        keyed_calls,
        median: percentile(&latencies, 0.5),
        p95: percentile(&latencies, 0.95),
        samples,
    })
}

const PASSWORD: &str = "correct horse battery staple";
/// The account the auth endpoints log in as (the first one registered).
pub const BENCH_USER: &str = "user-0@bench.example";

/// The auth endpoints and `GET /me`, warm; register and login (which hash a password) with a fifth
/// of the samples. Also answers the signed-in session of the household owner they used.
pub async fn auth_endpoints(setup: &Setup<'_>) -> anyhow::Result<(Vec<Endpoint>, Value)> {
    let slow = (setup.samples / 5).max(10);
    let fast = setup.samples;
    let mut results = Vec::new();

    let register = |i: usize, _: &Value| {
        post(
            "/auth/register",
            &json!({"email": format!("user-{i}@bench.example"), "password": PASSWORD, "display_name": "Bench"}),
        )
    };
    results.push(measure(setup, "auth-register", slow, register, |_| {}).await?);

    // user-0 exists now; log in as it.
    let login_body = json!({"email": BENCH_USER, "password": PASSWORD});
    let mut session = Value::Null;
    results.push(
        measure(
            setup,
            "auth-login",
            slow,
            |_, _| post("/auth/login", &login_body),
            |body| session = body.clone(),
        )
        .await?,
    );

    // Each refresh presents the token the previous answer returned.
    let latest = std::cell::RefCell::new(session["refresh_token"].clone());
    results.push(
        measure(
            setup,
            "auth-refresh",
            fast,
            |_, _| post("/auth/refresh", &json!({"refresh_token": *latest.borrow()})),
            |body| *latest.borrow_mut() = body["refresh_token"].clone(),
        )
        .await?,
    );

    // Logout needs a live session per request: log in that many times first (through the same
    // release binary; not measured).
    let mut sessions = Vec::new();
    {
        let runtime = RuntimeApi::start().await?;
        let _login = runtime.spawn(&setup.target.join("auth-login"), setup.environment)?;
        for _ in 0..fast + 3 {
            let answer = runtime.invoke(&post("/auth/login", &login_body)).await?;
            sessions.push(http(&answer.body).1["refresh_token"].clone());
        }
    }
    results.push(
        measure(
            setup,
            "auth-logout",
            fast,
            |i, _| {
                post(
                    "/auth/logout",
                    &json!({"refresh_token": sessions[i % sessions.len()]}),
                )
            },
            |_| {},
        )
        .await?,
    );

    let access = text(&session["access_token"], "the session's access token")?.to_owned();
    let me = harness::app::event(
        "GET",
        "/me",
        &[("authorization", &format!("Bearer {access}"))],
        None,
    )
    .to_string();
    results.push(measure(setup, "me", fast, |_, _| me.clone(), |_| {}).await?);

    // Each change starts from the password the one before set (this session goes on).
    let passwords = [PASSWORD, "another bench passphrase"];
    let mut changes = 0;
    let change = |_: usize, _: &Value| {
        let (from, to) = (passwords[changes % 2], passwords[(changes + 1) % 2]);
        changes += 1;
        let body = json!({"current_password": from, "new_password": to}).to_string();
        let bearer = format!("Bearer {access}");
        let headers = [
            ("authorization", bearer.as_str()),
            ("content-type", "application/json"),
        ];
        harness::app::event("POST", "/auth/password", &headers, Some(&body)).to_string()
    };
    results.push(measure(setup, "auth-password", slow, change, |_| {}).await?);
    Ok((results, session))
}

/// A string the set-up needs from an answer; its absence ends the bench with `what`.
pub fn text<'a>(value: &'a Value, what: &str) -> anyhow::Result<&'a str> {
    value
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("{what} is missing from the answer: {value}"))
}
