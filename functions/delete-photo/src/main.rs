use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::s3::S3Photos;
use shared::config::aws_sdk_config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = delete_photo::Deps { store: DynamoTable::from_env(&config)?, objects: S3Photos::from_env(&config)? };
    shared::http::run(&|req| delete_photo::handle(req, &deps)).await
}
