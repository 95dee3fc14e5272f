use shared::adapters::dynamodb::DynamoTable;
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = read_notification::Deps { store: DynamoTable::from_env(&config)?, clock: SystemClock };
    shared::http::run(&|req| read_notification::handle(req, &deps)).await
}
