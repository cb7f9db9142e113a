//! The test harness shared by the integration tests, the dev command and the benchmarks:
//! - [`postgres`] finds (or starts) a PostgreSQL server of template.yaml's major version
//!   ([`server_install`] installs one if the machine has none), and [`aurora`] gives it a master
//!   login made like Aurora's;
//! - [`database`] gives each test a fresh database and drops it afterwards;
//! - [`data_api`] runs an in-process data-api-local over it with a real `aws-sdk-rdsdata` client;
//! - [`schema`] copies the committed schema into it from a template built once by the migration engine.
//!
//! - [`repository`] finds this checkout at run time (never `env!`);
//! - [`app`] adds the functions' `App` and sends real API Gateway events to the endpoints.
//!
//! The tests themselves live in `api/` (one binary, one file per area).

pub mod app;
pub mod aurora;
pub mod data_api;
pub mod database;
pub mod events;
pub mod postgres;
pub mod repository;
pub mod response_url;
pub mod schema;
pub mod server_install;
pub mod template;

pub use app::{TestApp, TestResponse};
pub use data_api::TestDataApi;
pub use database::TestDatabase;
