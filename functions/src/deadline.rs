//! How long an invocation has left, from the deadline the Lambda runtime gives it.

use std::time::{Duration, SystemTime};

/// The time left before this invocation's deadline. On AWS the deadline is milliseconds since the
/// epoch; `cargo lambda watch` sends the timeout itself (e.g. `600000`) instead, so a value too
/// small to be a date after 2001 is read that way and local runs get their real time budget.
pub fn remaining(context: &lambda_runtime::Context) -> Duration {
    const EPOCH_MS_2001: u64 = 1_000_000_000_000;
    if context.deadline < EPOCH_MS_2001 {
        Duration::from_millis(context.deadline)
    } else {
        context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }
}
