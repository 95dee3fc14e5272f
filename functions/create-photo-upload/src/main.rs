use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::s3::S3Photos;
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = create_photo_upload::Deps {
        store: DynamoTable::from_env(&config)?,
        uploads: S3Photos::from_env(&config)?,
        clock: SystemClock,
    };
    shared::http::run(&|req| create_photo_upload::handle(req, &deps)).await
}
