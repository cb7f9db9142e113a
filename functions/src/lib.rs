//! The Lambda handlers. Each binary in `src/bin/` is one generated line, `registry::X.serve()`:
//! structured logging is set up once, the Data API client and configuration are built once per
//! cold start (outside the handler, so warm invocations reuse them), and every request goes to
//! the endpoint's `respond`. Tests call the same `respond` in-process with real API Gateway event
//! JSON.
//!
//! One name at every layer: binary `auth-register` → [`registry::AUTH_REGISTER`] → module
//! [`auth::register`] → its SQL in the same file. Every endpoint module has `ROUTE` (method and
//! path), `doc` and `respond`; [`registry`] lists them once.

pub mod access;
pub mod accounts;
pub mod app;
pub mod auth;
pub mod auth_keys;
pub mod categories;
pub mod custom_resource;
pub mod deadline;
pub mod endpoint;
pub mod household;
pub mod http;
pub mod idempotency;
pub mod invitations;
pub mod me;
pub mod migrate;
pub mod months;
pub mod openapi;
pub mod payees;
pub mod registry;
pub mod scheduled;
pub mod scheduler;
pub mod session_sql;
pub mod signing;
pub mod sync;
pub mod telemetry;
pub mod transactions;

pub use app::App;
pub use endpoint::{Endpoint, Kind};
pub use registry::{ENDPOINTS, OTHER_FUNCTIONS};
