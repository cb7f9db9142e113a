//! Cold starts of the release binaries under a stand-in for the Lambda Runtime API.
//!
//! Each start execs the binary with `AWS_LAMBDA_RUNTIME_API` pointing at a loopback server that
//! plays Lambda's part: it records when the first `GET …/invocation/next` arrives (init is done),
//! hands over one event that needs no database, and records when the answer is posted back.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::sync::Notify;

/// When each milestone of one start happened, relative to exec.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    pub init: Duration,
    pub first_response: Duration,
}

#[derive(Default)]
struct Run {
    spawned: Option<Instant>,
    event: String,
    served: bool,
    first_next: Option<Duration>,
    answered: Option<Duration>,
}

#[derive(Clone, Default)]
struct Shared {
    run: Arc<Mutex<Run>>,
    done: Arc<Notify>,
    /// Parks every `next` after the first, so the process waits quietly until it is killed.
    park: Arc<Notify>,
}

/// A loopback Runtime API; one binary at a time.
pub struct RuntimeApi {
    address: String,
    shared: Shared,
    _server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> anyhow::Result<Self> {
        let shared = Shared::default();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(answered))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(answered))
            .route("/2018-06-01/runtime/init/error", post(answered))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            shared,
            _server: server,
        })
    }

    /// Starts `binary` once with `environment`, serves `event`, and returns the timings.
    pub async fn measure(
        &self,
        binary: &Path,
        environment: &[(&str, String)],
        event: &str,
    ) -> anyhow::Result<Start> {
        {
            let mut run = self.shared.run.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            *run = Run {
                event: event.to_owned(),
                ..Run::default()
            };
        }
        let name = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &self.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in environment {
            command.env(key, value);
        }
        let done = self.shared.done.notified();
        tokio::pin!(done);
        done.as_mut().enable();
        let spawned = Instant::now();
        self.shared
            .run
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .spawned = Some(spawned);
        let mut child = command.spawn()?;
        let finished = tokio::time::timeout(Duration::from_secs(20), done).await;
        let _ = child.kill();
        let _ = child.wait();
        finished.map_err(|_| anyhow::anyhow!("{name} did not answer within 20 s"))?;
        let run = self.shared.run.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        match (run.first_next, run.answered) {
            (Some(init), Some(first_response)) => Ok(Start { init, first_response }),
            _ => anyhow::bail!("{name} answered before asking for work (an init error?)"),
        }
    }
}

async fn next(State(shared): State<Shared>) -> impl IntoResponse {
    let event = {
        let Ok(mut run) = shared.run.lock() else {
            return (HeaderMap::new(), String::new());
        };
        if run.served {
            None
        } else {
            run.served = true;
            run.first_next = run.spawned.map(|s| s.elapsed());
            Some(run.event.clone())
        }
    };
    let Some(event) = event else {
        shared.park.notified().await;
        return (HeaderMap::new(), String::new());
    };
    let mut headers = HeaderMap::new();
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 10_000)
        .unwrap_or_default();
    headers.insert(
        "lambda-runtime-aws-request-id",
        "bench-request".parse().expect("static header"),
    );
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline_ms.to_string().parse().expect("digits"),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:bench"
            .parse()
            .expect("static header"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000"
            .parse()
            .expect("static header"),
    );
    (headers, event)
}

async fn answered(State(shared): State<Shared>) -> &'static str {
    if let Ok(mut run) = shared.run.lock() {
        run.answered = run.spawned.map(|s| s.elapsed());
    }
    shared.done.notify_one();
    ""
}
