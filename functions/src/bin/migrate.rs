use functions::migrate::{Invocation, Migrator};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    functions::telemetry::init();
    let migrator = &Migrator::new(shared::db::Db::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        migrator
            .handle(event.payload, Invocation::from_context(&event.context))
            .await
    }))
    .await
}
