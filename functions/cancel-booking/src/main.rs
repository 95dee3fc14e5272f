use std::sync::Arc;

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::sqs::SqsEventPublisher;
use shared::adapters::stripe::{StripeHttp, StripeSecrets};
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let secrets = Arc::new(StripeSecrets::from_env(&config)?);
    let deps = cancel_booking::Deps {
        store: DynamoTable::from_env(&config)?,
        events: SqsEventPublisher::booking_events(&config)?,
        gateway: StripeHttp::from_env(secrets)?,
        clock: SystemClock,
    };
    shared::http::run(&|req| cancel_booking::handle(req, &deps)).await
}
