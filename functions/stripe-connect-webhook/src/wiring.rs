//! The adapters this function runs with in Lambda: its own binary (`main.rs`) and the deploy
//! bundle (`bundle/`, decision 0027) both start here.

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::sqs::SqsFifoQueue;
use shared::adapters::stripe::StripeSecrets;
use shared::config::{aws_sdk_config, env_parsed};
use shared::domain::payment::{WebhookEndpoint, DEFAULT_TOLERANCE_SECS};
use shared::domain::SystemClock;

/// Runs the function in Lambda: telemetry, the AWS config and its adapters, then the
/// runtime loop.
pub async fn run() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = crate::Deps {
        endpoint: WebhookEndpoint::Connect,
        secrets: StripeSecrets::connect_from_env(&config)?,
        inbox: DynamoTable::from_env(&config)?,
        queue: SqsFifoQueue::payments(&config)?,
        clock: SystemClock,
        tolerance_secs: env_parsed("WEBHOOK_TOLERANCE_SECS", DEFAULT_TOLERANCE_SECS)?,
    };
    shared::http::run(&|req| crate::handle(req, &deps)).await
}
