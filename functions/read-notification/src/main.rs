use shared::adapters::dynamodb::DynamoTable;
use shared::config::{aws_sdk_config, env_required};
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = read_notification::Deps {
        store: DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env_required("TABLE_NAME")?),
        clock: SystemClock,
    };
    shared::http::run(&|req| read_notification::handle(req, &deps)).await
}
