use shared::adapters::dynamodb::DynamoTable;
use shared::config::aws_sdk_config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = get_booking::Deps { store: DynamoTable::from_env(&config)? };
    shared::http::run(&|req| get_booking::handle(req, &deps)).await
}
