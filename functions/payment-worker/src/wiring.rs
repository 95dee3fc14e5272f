//! The adapters this function runs with in Lambda: its own binary (`main.rs`) and the deploy
//! bundle (`bundle/`, decision 0027) both start here.

use std::sync::Arc;

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::stripe::{StripeHttp, StripeSecrets};
use shared::config::{aws_sdk_config, env_parsed};
use shared::domain::payout::DEFAULT_PAYOUT_DELAY_HOURS;
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
        payout_delay_hours: env_parsed("PAYOUT_DELAY_HOURS", DEFAULT_PAYOUT_DELAY_HOURS)?,
        deposit_rules: shared::deposits::Rules::from_env()?,
    };
    shared::consumer::run(&|message| crate::handle(message, &deps)).await
}
