//! The Lambda handlers. Each binary in `src/bin/` is wiring only, the same few lines every time:
//! set up structured logging once ([`telemetry::init`]), build the Data API client and
//! configuration once per cold start (outside the handler, so warm invocations reuse them), and
//! hand every event to one handler from this library. Tests call the same handlers in-process
//! with real event JSON.

pub mod migrate;
pub mod telemetry;
