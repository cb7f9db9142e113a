//! The one integration-test binary. Each module tests one area through the real parts: a real
//! PostgreSQL, the real `aws-sdk-rdsdata` client, data-api-local in-process.

mod accounts;
mod app_role;
mod auth;
mod categories;
mod data_api_local;
mod domain;
mod faults;
mod household;
mod idempotency;
mod idempotency_members;
mod imports;
mod invitations;
mod joining;
mod login_throttle;
mod members;
mod migrate;
mod money_limits;
mod months;
mod openapi;
mod parity;
mod payees;
mod repeats;
mod resuming;
mod schema;
mod sessions;
mod sql_scan;
mod sync;
mod sync_edges;
mod sync_migration;
mod template;
mod tls;
mod token_keys;
mod transactions;
mod transactions_create;
mod transactions_update;
