//! The adapters this function runs with in Lambda: its own binary (`main.rs`) and the deploy
//! bundle (`bundle/`, decision 0027) both start here.

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::secrets_manager::SecretLinkKeys;
use shared::adapters::ses::SesMailer;
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;
use shared::email::EmailConfig;

/// Runs the function in Lambda: telemetry, the AWS config and its adapters, then the
/// runtime loop.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = crate::Deps {
        store: DynamoTable::from_env(&config)?,
        mailer: SesMailer::new(&config),
        keys: SecretLinkKeys::from_env(&config)?,
        config: EmailConfig::from_env()?,
        clock: SystemClock,
    };
    shared::consumer::run(&|message| crate::handle(message, &deps)).await
}
