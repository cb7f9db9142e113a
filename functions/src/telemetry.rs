//! Structured JSON logs, one object per line, as CloudWatch Logs Insights reads them.

use tracing_subscriber::filter::Targets;

/// Installs the JSON log subscriber; `RUST_LOG` sets the level (`info`, or per target as in
/// `warn,functions=debug`; default `info`). A `Targets` filter rather than `EnvFilter`: it reads
/// the same plain directives without linking a regex engine into every function (≈ 0.4 MiB).
pub fn init() {
    let filter: Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    // A second call (tests) keeps the first subscriber.
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false);
    let _ = tracing_subscriber::registry().with(json).with(filter).try_init();
}
