//! The adapters this function runs with in Lambda: its own binary (`main.rs`) and the deploy
//! bundle (`bundle/`, decision 0027) both start here.

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::secrets_manager::SecretLinkKeys;
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

/// Runs the function in Lambda: telemetry, the AWS config and its adapters, then the
/// runtime loop.
pub async fn run() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = crate::Deps {
        store: DynamoTable::from_env(&config)?,
        keys: SecretLinkKeys::from_env(&config)?,
        clock: SystemClock,
        app_base_url: shared::config::env_required("APP_BASE_URL")?,
    };
    shared::http::run(&|req| crate::handle(req, &deps)).await
}
