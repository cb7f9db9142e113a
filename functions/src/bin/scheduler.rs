use lambda_runtime::{Error, LambdaEvent, service_fn};

use functions::scheduler::{self, ScheduledEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    functions::telemetry::init();
    let db = &shared::db::Db::from_env().await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ScheduledEvent>| {
        Box::pin(scheduler::handle(db, event.payload))
    }))
    .await
}
