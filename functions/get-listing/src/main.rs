use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::jwks::JwksVerifier;
use shared::config::{aws_sdk_config, env_required};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = get_listing::Deps {
        store: DynamoTable::from_env(&config)?,
        viewer: JwksVerifier::from_env()?,
        media_base_url: env_required("MEDIA_BASE_URL")?,
    };
    shared::http::run(&|req| get_listing::handle(req, &deps)).await
}
