//! The adapters this function runs with in Lambda.

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::opensearch::OpenSearch;
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

/// Runs the function in Lambda: telemetry, the AWS config and its adapters, then the
/// runtime loop.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = crate::Deps {
        store: DynamoTable::from_env(&config)?,
        index: OpenSearch::from_env(&config)?,
        clock: SystemClock,
    };
    shared::consumer::run_stream(&|batch| crate::handle(batch, &deps)).await
}
