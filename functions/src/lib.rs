//! The Lambda handlers. Each binary in `src/bin/` is wiring only: `http::run` sets up structured
//! logging once, builds the Data API client and configuration once per cold start (outside the
//! handler, so warm invocations reuse them), and hands every request to one endpoint's `respond`.
//! Tests call the same `respond` in-process with real API Gateway event JSON.
//!
//! One name at every layer: binary `auth-register` → module [`auth::register`] → its SQL in the
//! same file. Every endpoint module has `ROUTE` (method and path, which template.yaml and the local
//! router config must match) and `respond`.

pub mod access;
pub mod accounts;
pub mod app;
pub mod auth;
pub mod auth_keys;
pub mod categories;
pub mod custom_resource;
pub mod deadline;
pub mod household;
pub mod http;
pub mod idempotency;
pub mod input;
pub mod invitations;
pub mod me;
pub mod migrate;
pub mod months;
pub mod openapi;
pub mod payees;
pub mod signing;
pub mod sync;
pub mod telemetry;
pub mod transactions;

pub use app::App;

use shared::http::Route;

/// Every HTTP endpoint: its binary's name and its route. template.yaml and the local router
/// config in Cargo.toml must say the same (a test checks).
pub const ENDPOINTS: &[(&str, Route)] = &[
    ("auth-register", auth::register::ROUTE),
    ("auth-login", auth::login::ROUTE),
    ("auth-refresh", auth::refresh::ROUTE),
    ("auth-logout", auth::logout::ROUTE),
    ("auth-password", auth::password::ROUTE),
    ("me", me::ROUTE),
    ("household-get", household::get::ROUTE),
    ("household-update", household::update::ROUTE),
    ("household-member-role", household::member_role::ROUTE),
    ("household-member-remove", household::member_remove::ROUTE),
    ("invitations-create", invitations::create::ROUTE),
    ("invitations-list", invitations::list::ROUTE),
    ("invitations-revoke", invitations::revoke::ROUTE),
    ("invitations-accept", invitations::accept::ROUTE),
    ("accounts-list", accounts::list::ROUTE),
    ("accounts-create", accounts::create::ROUTE),
    ("accounts-get", accounts::get::ROUTE),
    ("accounts-update", accounts::update::ROUTE),
    ("accounts-delete", accounts::delete::ROUTE),
    ("payees-list", payees::list::ROUTE),
    ("payees-create", payees::create::ROUTE),
    ("payees-get", payees::get::ROUTE),
    ("payees-update", payees::update::ROUTE),
    ("payees-delete", payees::delete::ROUTE),
    ("category-groups-list", categories::groups::ROUTE),
    ("category-groups-create", categories::group_create::ROUTE),
    ("category-groups-update", categories::group_update::ROUTE),
    ("category-groups-delete", categories::group_delete::ROUTE),
    ("categories-create", categories::create::ROUTE),
    ("categories-get", categories::get::ROUTE),
    ("categories-update", categories::update::ROUTE),
    ("categories-delete", categories::delete::ROUTE),
    ("months-list", months::list::ROUTE),
    ("months-get", months::get::ROUTE),
    ("months-assign", months::assign::ROUTE),
    ("transactions-list", transactions::list::ROUTE),
    ("transactions-create", transactions::create::ROUTE),
    ("transactions-get", transactions::get::ROUTE),
    ("transactions-update", transactions::update::ROUTE),
    ("transactions-delete", transactions::delete::ROUTE),
    ("openapi", openapi::json::ROUTE),
    ("docs", openapi::docs::ROUTE),
];

/// The endpoints that issue access tokens: the only functions allowed to read the signing secret
/// (the others verify with public keys). Their binaries start with `http::run_issuing`.
pub const TOKEN_ISSUERS: &[&str] = &[
    "auth-register",
    "auth-login",
    "auth-refresh",
    "invitations-accept",
];

/// The endpoints that make no database call (the API's own description): their role grants no
/// Data API and no database secret.
pub const NO_DATABASE: &[&str] = &["openapi", "docs"];

/// Binaries that are not HTTP endpoints.
pub const OTHER_FUNCTIONS: &[&str] = &["migrate", "auth-keys"];
