use shared::adapters::dynamodb::DynamoTable;
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = block_dates::Deps { store: DynamoTable::from_env(&config)?, clock: SystemClock };
    shared::http::run(&|req| block_dates::handle(req, &deps)).await
}
