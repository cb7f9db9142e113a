//! A strict local stand-in for the Amazon RDS Data API, over a real PostgreSQL.
//!
//! Functions, the migration function and the tests talk to it with the production
//! `aws-sdk-rdsdata` client; only the endpoint differs (`AWS_ENDPOINT_URL_RDS_DATA`). It is as
//! strict as Aurora PostgreSQL where lenient emulators are not: parameters are bound with the types
//! the Data API declares ([`bind`]), one statement per call, results shaped as the Data API shapes
//! them ([`decode`]), and errors with the Data API's names, statuses and messages ([`error`]).
//! It counts calls per operation ([`Stats`]) so tests and benchmarks can hold every endpoint to its
//! round-trip budget, and can inject faults ([`Fault`]) such as `DatabaseResumingException`.
//!
//! Run it as a binary (`cargo run -p data-api-local -- --help`) or in-process with [`spawn`].

pub mod bind;
pub mod decode;
pub mod engine;
pub mod error;
pub mod metadata;
pub mod protocol;
pub mod secrets;
pub mod server;
pub mod service;

use std::net::SocketAddr;

pub use error::{ApiError, ErrorKind};
pub use secrets::Credentials;
pub use service::{Config, Counters, Fault, Operation, Service, Stats};

/// A running emulator; dropping it stops the server.
pub struct Running {
    pub addr: SocketAddr,
    pub service: Service,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    expiry: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The endpoint URL to give the SDK, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.expiry.abort();
    }
}

/// Starts the emulator on `addr` (port 0 picks a free port) in the current Tokio runtime.
///
/// # Errors
/// An invalid PostgreSQL URL, or an address that cannot be bound.
pub async fn spawn(config: Config, addr: SocketAddr) -> std::io::Result<Running> {
    let service = Service::new(config).map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = server::router(service.clone());
    tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(error) = serve.await {
            tracing::error!(%error, "data-api-local stopped");
        }
    });
    let expiry = service.spawn_expiry();
    Ok(Running {
        addr,
        service,
        shutdown: Some(shutdown),
        expiry,
    })
}
