//! The adapters this function runs with in Lambda: its own binary (`main.rs`) and the deploy
//! bundle (`bundle/`, decision 0027) both start here.

use std::sync::Arc;

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::stripe::{StripeHttp, StripeSecrets};
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

/// Runs the function in Lambda: telemetry, the AWS config and its adapters, then the
/// runtime loop.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let secrets = Arc::new(StripeSecrets::from_env(&config)?);
    let deps = crate::Deps {
        store: DynamoTable::from_env(&config)?,
        gateway: StripeHttp::from_env(secrets)?,
        clock: SystemClock,
        allow_clock_override: std::env::var("STAGE").is_ok_and(|s| s != "prod"),
        rules: shared::deposits::Rules::from_env()?,
    };
    shared::scheduled::run(&|event| crate::handle(event, &deps)).await
}
