//! Generated from `functions::registry` by `cargo xtask template`; do not edit.

fn main() -> Result<(), lambda_http::Error> {
    functions::registry::SCHEDULED_TRANSACTIONS_UPDATE.serve()
}
