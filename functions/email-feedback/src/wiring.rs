//! The adapters this function runs with in Lambda: its own binary (`main.rs`) and the deploy
//! bundle (`bundle/`, decision 0027) both start here.

use shared::adapters::dynamodb::DynamoTable;
use shared::config::aws_sdk_config;

/// Runs the function in Lambda: telemetry, the AWS config and its adapters, then the
/// runtime loop.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let store = DynamoTable::from_env(&config)?;
    shared::consumer::run(&|message| crate::handle(message, &store)).await
}
