use shared::adapters::dynamodb::DynamoTable;
use shared::config::{aws_sdk_config, env_required};
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = update_photo::Deps {
        store: DynamoTable::from_env(&config)?,
        clock: SystemClock,
        media_base_url: env_required("MEDIA_BASE_URL")?,
    };
    shared::http::run(&|req| update_photo::handle(req, &deps)).await
}
