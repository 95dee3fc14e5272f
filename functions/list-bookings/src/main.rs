use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::secrets_manager::SecretCursorKeys;
use shared::config::{aws_sdk_config, env_required};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = list_bookings::Deps {
        store: DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env_required("TABLE_NAME")?),
        cursor_keys: SecretCursorKeys::new(
            aws_sdk_secretsmanager::Client::new(&config),
            env_required("CURSOR_SECRET_ID")?,
        ),
    };
    shared::http::run(&|req| list_bookings::handle(req, &deps)).await
}
