//! A local stand-in for CloudFormation's pre-signed `ResponseURL`: an HTTP server that records
//! every PUT the migrate function sends it, headers and JSON body.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::Value;

/// The PUTs a [`ResponseUrl`] received: headers and JSON body.
pub type Received = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

/// A local stand-in for CloudFormation's pre-signed ResponseURL: records each PUT.
pub struct ResponseUrl {
    pub url: String,
    pub received: Received,
    _server: tokio::task::JoinHandle<()>,
}

impl ResponseUrl {
    /// # Panics
    /// When no local port can be bound (tests only).
    pub async fn start() -> Self {
        let received: Received = Arc::default();
        let app = axum::Router::new()
            .route(
                "/response",
                axum::routing::put(
                    |State(store): State<Received>, headers: HeaderMap, body: String| async move {
                        let value = serde_json::from_str(&body).unwrap_or(Value::Null);
                        store.lock().unwrap().push((headers, value));
                    },
                ),
            )
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/response", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url,
            received,
            _server: server,
        }
    }

    pub fn responses(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| body.clone())
            .collect()
    }
}
