use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::s3::S3Photos;
use shared::config::{aws_sdk_config, env_required, s3_client};
use shared::domain::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = create_photo_upload::Deps {
        store: DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env_required("TABLE_NAME")?),
        uploads: S3Photos::new(s3_client(&config), env_required("UPLOADS_BUCKET")?, env_required("MEDIA_BUCKET")?),
        clock: SystemClock,
    };
    shared::http::run(&|req| create_photo_upload::handle(req, &deps)).await
}
