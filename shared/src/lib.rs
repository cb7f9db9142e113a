//! The budgeting domain shared by every Lambda function, the migration engine and the tools.
//!
//! | module | owns |
//! |--------|------|
//! | [`auth`] | password policy and argon2id hashing, access tokens (JWT), refresh tokens |
//! | [`http`] | request parsing, RFC 9457 problem responses, routes, bearer tokens |
//! | [`domain`] | values that parse input and cannot be invalid: ids, money, emails, months, names, enums |
//! | [`db`] | the Data API access layer: parameters, rows, typed errors, retries |
//! | [`schema`] | the table mappings (the source of truth), DDL rendering, introspection, drift check |
//! | [`migrate`] | the migration engine: ledger, checksums, advisory lock, one transaction per run |
//! | [`version`] | resource versions: `ETag` answers and `If-Match` preconditions checked in the write's statement |

pub mod auth;
pub mod db;
pub mod domain;
pub mod http;
pub mod migrate;
pub mod schema;
pub mod version;
