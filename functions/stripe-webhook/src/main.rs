use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::sqs::SqsFifoQueue;
use shared::adapters::stripe::StripeSecrets;
use shared::config::{aws_sdk_config, env_parsed};
use shared::domain::payment::DEFAULT_TOLERANCE_SECS;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = stripe_webhook::Deps {
        secrets: StripeSecrets::from_env(&config)?,
        inbox: DynamoTable::from_env(&config)?,
        queue: SqsFifoQueue::payments(&config)?,
        clock: SystemClock,
        tolerance_secs: env_parsed("WEBHOOK_TOLERANCE_SECS", DEFAULT_TOLERANCE_SECS)?,
    };
    shared::http::run(&|req| stripe_webhook::handle(req, &deps)).await
}
