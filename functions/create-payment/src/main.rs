use std::sync::Arc;

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::secrets_manager::SecretsManagerSource;
use shared::adapters::stripe::{StripeHttp, StripeSecrets};
use shared::config::{aws_sdk_config, env_required};
use shared::domain::SystemClock;
use shared::secrets::{SecretCache, DEFAULT_TTL};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let secrets = Arc::new(StripeSecrets::new(
        SecretCache::new(SecretsManagerSource::new(aws_sdk_secretsmanager::Client::new(&config)), DEFAULT_TTL),
        env_required("STRIPE_SECRET_ID")?,
    ));
    let deps = create_payment::Deps {
        store: DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env_required("TABLE_NAME")?),
        gateway: StripeHttp::new(env_required("STRIPE_API_BASE")?, secrets),
        clock: SystemClock,
    };
    shared::http::run(&|req| create_payment::handle(req, &deps)).await
}
