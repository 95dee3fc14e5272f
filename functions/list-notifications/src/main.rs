use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::secrets_manager::SecretCursorKeys;
use shared::config::aws_sdk_config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = list_notifications::Deps {
        store: DynamoTable::from_env(&config)?,
        cursor_keys: SecretCursorKeys::from_env(&config)?,
    };
    shared::http::run(&|req| list_notifications::handle(req, &deps)).await
}
