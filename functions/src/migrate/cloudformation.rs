//! The CloudFormation custom resource that migrates the database on every deploy.
//!
//! - `Create` and `Update` apply pending migrations to the database the properties name
//!   ([`Target`]: `ClusterArn`, `DatabaseName`, `MasterSecretArn`, `AppSecretArn`), never the
//!   environment's; `AppRoleGeneration` only makes a change that re-runs the role upkeep.
//!   `Delete` leaves the data alone. Both first
//!   check that the newest embedded migration is the template's `SchemaVersion`: a function built
//!   from another checkout (or with no migrations at all) answers FAILED, never SUCCESS.
//! - An `Update` whose `SchemaVersion`, `FunctionVersion` or `AppRoleGeneration` went down is a
//!   stack rollback ([`is_rollback`]): the database keeps its newer schema (migrations are
//!   expand-only, so old code runs on it) and the answer is SUCCESS without touching it. Failing
//!   here would leave the stack in UPDATE_ROLLBACK_FAILED.
//! - A response is always PUT to `ResponseURL` ([`custom_resource`]), failures included, and a
//!   watchdog answers FAILED shortly before the Lambda deadline if the work has not finished, so a
//!   stack never hangs for CloudFormation's hour-long timeout.

use serde_json::Value;
use shared::migrate;

use crate::custom_resource::{self, Outcome, Request};

use super::engine::{Error, Invocation, Migrator, Target};

/// Never changes: a new id would make CloudFormation delete the "old" resource.
pub const PHYSICAL_RESOURCE_ID: &str = "budget-schema-migrations";

/// The custom resource's properties that this function reads (CloudFormation sends strings).
const SCHEMA_VERSION: &str = "SchemaVersion";

/// Answers a custom resource request when the function could not start (its configuration is
/// missing or broken): FAILED with the reason for Create and Update, so the deploy stops at once
/// instead of waiting for CloudFormation's timeout; SUCCESS for Delete, which would do nothing
/// anyway and must not block deleting the stack.
///
/// # Errors
/// [`Error::UnrecognisedEvent`] when the request cannot be read.
pub async fn answer_unconfigured(http: &reqwest::Client, event: Value, reason: &str) -> Result<Value, Error> {
    let request = custom_resource::parse(event).map_err(|e| Error::UnrecognisedEvent(e.to_string()))?;
    let outcome = match request {
        Request::Delete(_) => Outcome::success("the database and its data are left in place"),
        _ => Outcome::failed(format!("the migrate function could not start: {reason}")),
    };
    Ok(custom_resource::answer(http, &request, PHYSICAL_RESOURCE_ID, outcome).await)
}

/// Handles a custom resource request and sends its response.
///
/// # Errors
/// [`Error::UnrecognisedEvent`] when the request cannot be read (then there is nowhere to answer).
pub async fn handle(migrator: &Migrator, event: Value, invocation: Invocation) -> Result<Value, Error> {
    let request = custom_resource::parse(event).map_err(|e| Error::UnrecognisedEvent(e.to_string()))?;
    let watchdog = migrator.margins(invocation).watchdog;
    let watchdog_at = invocation
        .deadline
        .checked_sub(watchdog)
        .unwrap_or(invocation.deadline);
    let outcome = tokio::select! {
        outcome = work(migrator, &request, invocation) => outcome,
        () = tokio::time::sleep_until(watchdog_at.into()) => {
            // Logged at ERROR like every FAILED answer: the failed-migration alarm counts these.
            tracing::error!("the migration did not finish before the Lambda deadline");
            Outcome::failed("the migration did not finish before the Lambda deadline; nothing was committed")
        }
    };
    Ok(custom_resource::answer(&migrator.http, &request, PHYSICAL_RESOURCE_ID, outcome).await)
}

async fn work(migrator: &Migrator, request: &Request, invocation: Invocation) -> Outcome {
    match request {
        Request::Delete(_) => Outcome::success("the database and its data are left in place"),
        Request::Update(update)
            if is_rollback(&update.resource_properties, &update.old_resource_properties) =>
        {
            Outcome::success("stack rollback: the database keeps its newer schema, which older code runs on")
        }
        Request::Create(_) | Request::Update(_) => match apply(migrator, request, invocation).await {
            Ok(report) => {
                let applied: Vec<String> = report.steps.iter().map(|s| format!("{:04}", s.version)).collect();
                let mut outcome = Outcome::success(if applied.is_empty() {
                    "no pending migrations".to_owned()
                } else {
                    format!("applied {}", applied.join(", "))
                });
                outcome.data.insert("Applied".into(), applied.join(","));
                outcome
                    .data
                    .insert("CurrentVersion".into(), format!("{:04}", report.current_version));
                outcome
            }
            Err(error) => {
                tracing::error!(%error, "migration failed");
                Outcome::failed(error.to_string())
            }
        },
        // `Request` is non-exhaustive; a request type CloudFormation adds later changes nothing here.
        _ => Outcome::success("nothing to do for this request type"),
    }
}

/// Applies pending migrations after checking that this build carries the schema version the
/// template names, so a function built from another checkout fails the deploy instead of
/// answering SUCCESS with the wrong schema.
async fn apply(
    migrator: &Migrator,
    request: &Request,
    invocation: Invocation,
) -> Result<migrate::Report, Error> {
    let properties =
        custom_resource::properties(request).ok_or(Error::MissingProperty("ResourceProperties"))?;
    if let Some(expected) = schema_version(properties) {
        migrator.expect_version(expected)?;
    }
    let target = Target::from_properties(properties)?;
    migrator.up_target(&target, invocation).await
}

fn schema_version(properties: &Value) -> Option<i64> {
    custom_resource::number(properties, SCHEMA_VERSION)
}

/// A stack rollback ([`custom_resource::is_rollback`]): the schema version, the function's
/// published version or the role generation went down. The database it names was left as it was,
/// and the function's role may no longer reach it (after a cluster replacement its policy already
/// names the new one), so a rollback answers SUCCESS without touching anything; failing would
/// leave the stack in UPDATE_ROLLBACK_FAILED.
fn is_rollback(new: &Value, old: &Value) -> bool {
    custom_resource::is_rollback(
        new,
        old,
        &[SCHEMA_VERSION, "FunctionVersion", "AppRoleGeneration"],
    )
}
