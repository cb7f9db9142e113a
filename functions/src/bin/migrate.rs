use functions::migrate::{Invocation, Migrator, handle_event};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    functions::telemetry::init();
    // A configuration error does not end the process: every event gets an answer saying why.
    let migrator = &Migrator::from_env().await;
    let http = &match migrator {
        Ok(migrator) => migrator.http.clone(),
        Err(_) => functions::migrate::https_client(),
    };
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_event(
            migrator,
            http,
            event.payload,
            Invocation::from_context(&event.context),
        )
        .await
    }))
    .await
}
