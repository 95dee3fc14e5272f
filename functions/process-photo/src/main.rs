use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::s3::S3Photos;
use shared::config::aws_sdk_config;
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = process_photo::Deps {
        store: DynamoTable::from_env(&config)?,
        objects: S3Photos::from_env(&config)?,
        clock: SystemClock,
    };
    shared::consumer::run_s3(&|event| process_photo::handle(event, &deps)).await
}
