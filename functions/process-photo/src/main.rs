use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::s3::S3Photos;
use shared::config::{aws_sdk_config, env_required, s3_client};
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = process_photo::Deps {
        store: DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env_required("TABLE_NAME")?),
        objects: S3Photos::new(s3_client(&config), env_required("UPLOADS_BUCKET")?, env_required("MEDIA_BUCKET")?),
        clock: SystemClock,
    };
    shared::consumer::run_s3(&|event| process_photo::handle(event, &deps)).await
}
