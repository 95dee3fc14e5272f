use shared::adapters::dynamodb::DynamoTable;
use shared::config::{aws_sdk_config, env_required};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let log = DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env_required("TABLE_NAME")?);
    shared::consumer::run(&|message| audit_log::handle(message, &log)).await
}
