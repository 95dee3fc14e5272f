//! The adapters this function runs with in Lambda: its own binary (`main.rs`) and the deploy
//! bundle (`bundle/`, decision 0027) both start here.

use std::sync::Arc;

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::stripe::{StripeHttp, StripeSecrets};
use shared::config::{aws_sdk_config, env_required};
use shared::domain::SystemClock;

/// Runs the function in Lambda: telemetry, the AWS config and its adapters, then the
/// runtime loop.
pub async fn run() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = crate::Deps {
        store: DynamoTable::from_env(&config)?,
        gateway: StripeHttp::from_env(Arc::new(StripeSecrets::from_env(&config)?))?,
        clock: SystemClock,
        refresh_url: env_required("PAYOUT_ONBOARDING_REFRESH_URL")?,
        return_url: env_required("PAYOUT_ONBOARDING_RETURN_URL")?,
    };
    shared::http::run(&|req| crate::handle(req, &deps)).await
}
