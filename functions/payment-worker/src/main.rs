use std::sync::Arc;

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::sqs::SqsEventPublisher;
use shared::adapters::stripe::{StripeHttp, StripeSecrets};
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let secrets = Arc::new(StripeSecrets::from_env(&config)?);
    let deps = payment_worker::Deps {
        store: DynamoTable::from_env(&config)?,
        gateway: StripeHttp::from_env(secrets)?,
        events: SqsEventPublisher::booking_events(&config)?,
        clock: SystemClock,
    };
    shared::consumer::run(&|message| payment_worker::handle(message, &deps)).await
}
