use shared::adapters::dynamodb::DynamoTable;
use shared::config::{aws_sdk_config, env_parsed};
use shared::domain::booking::DEFAULT_SERVICE_FEE_BPS;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = quote_booking::Deps {
        store: DynamoTable::from_env(&config)?,
        clock: SystemClock,
        fee_bps: env_parsed("SERVICE_FEE_BPS", DEFAULT_SERVICE_FEE_BPS)?,
    };
    shared::http::run(&|req| quote_booking::handle(req, &deps)).await
}
