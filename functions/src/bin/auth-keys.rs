use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    functions::telemetry::init();
    let publisher = &functions::auth_keys::KeyPublisher::from_env().await;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        publisher.handle(event.payload)
    }))
    .await
}
