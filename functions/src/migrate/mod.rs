//! The `migrate` function: brings the database to the migrations embedded in this binary.
//!
//! It answers two kinds of event:
//! - a CloudFormation custom resource request (every deploy): see [`cloudformation`];
//! - a direct invocation `{"action": "up" | "status" | "check" | "down", …}`: see [`Action`].
//!
//! The reply is JSON describing what happened; failures are clear messages, never a panic.

pub mod cloudformation;
mod engine;

pub use engine::{Action, AppRoleSecret, Error, Invocation, Margins, Migrator, Target, https_client};

use serde_json::Value;
use shared::db::MissingEnv;

impl Migrator {
    /// Handles one event.
    ///
    /// # Errors
    /// [`Error`] for a direct invocation that failed; CloudFormation requests always answer `Ok`
    /// once their response has been sent.
    pub async fn handle(&self, event: Value, invocation: Invocation) -> Result<Value, Error> {
        // Boxed: the engine's nested futures are otherwise too deep a type for the runtime's own.
        if event.get("RequestType").is_some() {
            return Box::pin(cloudformation::handle(self, event, invocation)).await;
        }
        let action: Action =
            serde_json::from_value(event).map_err(|e| Error::UnrecognisedEvent(e.to_string()))?;
        Box::pin(self.act(action, invocation)).await
    }
}

/// What the migrate binary serves: a configured [`Migrator`], or the reason it could not be built,
/// which every event is then answered with (CloudFormation included, so a deploy fails at once
/// rather than after the custom resource's timeout).
pub async fn handle_event(
    migrator: &Result<Migrator, MissingEnv>,
    http: &reqwest::Client,
    event: Value,
    invocation: Invocation,
) -> Result<Value, Error> {
    match migrator {
        Ok(migrator) => migrator.handle(event, invocation).await,
        Err(error) => {
            tracing::error!(%error, "the migrate function is not configured");
            if event.get("RequestType").is_some() {
                cloudformation::answer_unconfigured(http, event, &error.to_string()).await
            } else {
                Err(Error::Unconfigured(error.to_string()))
            }
        }
    }
}
