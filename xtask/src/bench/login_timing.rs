//! Whether a login's time tells if its email has an account: wrong passwords for a known email and
//! any password for unknown emails, interleaved through one warm release `auth-login`, each from
//! its own source address so that no throttle is reached.

use std::time::Duration;

use serde_json::json;

use super::functions::{Setup, percentile};
use super::runtime::RuntimeApi;

pub struct LoginTiming {
    pub tries: usize,
    pub known: (Duration, Duration),
    pub unknown: (Duration, Duration),
}

impl LoginTiming {
    /// The two medians' difference as a share of the known one.
    pub fn median_gap(&self) -> f64 {
        let (known, unknown) = (self.known.0.as_secs_f64(), self.unknown.0.as_secs_f64());
        (unknown - known).abs() / known
    }
}

/// `tries` of each kind against `known_email` (an account of the bench's).
pub async fn measure(setup: &Setup<'_>, known_email: &str, tries: usize) -> anyhow::Result<LoginTiming> {
    let runtime = RuntimeApi::start().await?;
    let _login = runtime.spawn(&setup.target.join("auth-login"), setup.environment)?;
    let (mut known, mut unknown) = (Vec::with_capacity(tries), Vec::with_capacity(tries));
    for n in 0..tries + 5 {
        for (email, into) in [
            (known_email.to_owned(), &mut known),
            (format!("nobody-{n}@bench.example"), &mut unknown),
        ] {
            let body = json!({"email": email, "password": "not the password at all"}).to_string();
            let mut event = harness::app::event(
                "POST",
                "/auth/login",
                &[("content-type", "application/json")],
                Some(&body),
            );
            // 198.18.0.0/15 is for benchmarks (RFC 2544): a fresh address per pair of tries.
            event["requestContext"]["http"]["sourceIp"] = json!(format!("198.18.{}.{}", n / 250, n % 250));
            let answer = runtime.invoke(&event.to_string()).await?;
            if n >= 5 {
                into.push(answer.latency);
            }
        }
    }
    known.sort();
    unknown.sort();
    Ok(LoginTiming {
        tries,
        known: (percentile(&known, 0.5), percentile(&known, 0.95)),
        unknown: (percentile(&unknown, 0.5), percentile(&unknown, 0.95)),
    })
}
