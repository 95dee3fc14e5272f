use shared::adapters::dynamodb::DynamoTable;
use shared::config::aws_sdk_config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let store = DynamoTable::from_env(&config)?;
    shared::consumer::run(&|message| notifications::handle(message, &store)).await
}
