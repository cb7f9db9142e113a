//! The events AWS sends the functions that no request starts, as the files in `events/` hold them
//! (the README invokes the scheduler with the same file).

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The "Scheduled Event" an EventBridge rule sends the scheduler (`events/scheduled-event.json`),
/// due at `time`.
///
/// # Errors
/// When the file is missing or is not JSON.
pub fn scheduled_event(time: DateTime<Utc>) -> anyhow::Result<Value> {
    let path = crate::repository::root()?.join("events/scheduled-event.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut event: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    event["time"] = json!(time.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    Ok(event)
}
