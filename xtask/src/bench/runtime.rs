//! A stand-in for the Lambda Runtime API on loopback, to run the release binaries as Lambda would:
//! cold (exec → first `next` → first answer) and warm (one event after another, each timed from
//! handing it over to receiving the answer, which is the handler's latency plus a loopback hop).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};

/// One answered invocation.
pub struct Answer {
    /// From handing the event over to receiving the answer.
    pub latency: Duration,
    /// When the answer arrived.
    pub at: Instant,
    /// What the function posted: for HTTP functions an API Gateway response (`statusCode`, `body`).
    pub body: serde_json::Value,
}

/// Where a function's log lines go, one call per line.
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Events handed over and not yet answered: request id → (when it was handed over, who waits).
type InFlight = Arc<Mutex<HashMap<String, (Instant, oneshot::Sender<Answer>)>>>;

struct Pending {
    event: String,
    reply: oneshot::Sender<Answer>,
}

#[derive(Clone)]
struct Shared {
    queue: Arc<AsyncMutex<mpsc::Receiver<Pending>>>,
    in_flight: InFlight,
    first_next: Arc<Mutex<Option<Instant>>>,
}

/// One Runtime API per function process: when both go, no handler of the old process can be
/// left waiting to take the next process's event.
pub struct RuntimeApi {
    address: String,
    shared: Shared,
    sender: mpsc::Sender<Pending>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A running function process; killed when dropped.
pub struct Function {
    child: Child,
    pub spawned: Instant,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RuntimeApi {
    pub async fn start() -> anyhow::Result<Self> {
        let (sender, receiver) = mpsc::channel(1);
        let shared = Shared {
            queue: Arc::new(AsyncMutex::new(receiver)),
            in_flight: Arc::default(),
            first_next: Arc::default(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(answered))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(answered))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            shared,
            sender,
            server,
        })
    }

    /// Execs `binary` as Lambda would, with `environment` on top of Lambda's own variables.
    pub fn spawn(&self, binary: &Path, environment: &[(&str, String)]) -> anyhow::Result<Function> {
        self.spawn_logged(binary, environment, None)
    }

    /// As [`Self::spawn`]; with `logs`, the function logs at `info` and every line it writes
    /// (its JSON logs, one object a line) is handed to `logs`, as CloudWatch would receive it.
    pub fn spawn_logged(
        &self,
        binary: &Path,
        environment: &[(&str, String)],
        logs: Option<LogSink>,
    ) -> anyhow::Result<Function> {
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
            .env("RUST_LOG", if logs.is_some() { "info" } else { "warn" })
            .stdin(Stdio::null())
            .stdout(if logs.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::null());
        for (key, value) in environment {
            command.env(key, value);
        }
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        if let (Some(sink), Some(stdout)) = (logs, child.stdout.take()) {
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                    sink(&line);
                }
            });
        }
        Ok(Function { child, spawned })
    }

    /// When the current process first asked for work (its init was done).
    pub fn first_next(&self) -> Option<Instant> {
        self.shared.first_next.lock().ok().and_then(|g| *g)
    }

    /// Hands `event` to the function and waits for its answer.
    pub async fn invoke(&self, event: &str) -> anyhow::Result<Answer> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Pending {
                event: event.to_owned(),
                reply,
            })
            .await
            .context("runtime API stopped")?;
        tokio::time::timeout(Duration::from_secs(30), answer)
            .await
            .context("the function did not answer within 30 s")?
            .context("the function failed to initialise")
    }
}

async fn next(State(shared): State<Shared>) -> (HeaderMap, String) {
    if let Ok(mut first) = shared.first_next.lock() {
        first.get_or_insert_with(Instant::now);
    }
    let pending = shared.queue.lock().await.recv().await;
    let Some(Pending { event, reply }) = pending else {
        return (HeaderMap::new(), String::new());
    };
    let id = next_request_id();
    if let Ok(mut in_flight) = shared.in_flight.lock() {
        in_flight.insert(id.clone(), (Instant::now(), reply));
    }
    // The API functions' `Timeout` in template.yaml (25 s).
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 25_000)
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:bench".to_owned(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".to_owned(),
    );
    (headers, event)
}

async fn answered(State(shared): State<Shared>, UrlPath(id): UrlPath<String>, body: Bytes) -> &'static str {
    let at = Instant::now();
    let entry = shared.in_flight.lock().ok().and_then(|mut m| m.remove(&id));
    if let Some((served, reply)) = entry {
        let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        let _ = reply.send(Answer {
            latency: at - served,
            at,
            body,
        });
    }
    ""
}

/// The process could not start; `invoke` then times out with a message saying so.
async fn init_error(body: Bytes) -> &'static str {
    eprintln!("init error: {}", String::from_utf8_lossy(&body));
    ""
}

fn next_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("bench-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
