use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::secrets_manager::SecretsManagerSource;
use shared::adapters::sqs::SqsFifoQueue;
use shared::adapters::stripe::StripeSecrets;
use shared::config::{aws_sdk_config, env_parsed, env_required};
use shared::domain::payment::DEFAULT_TOLERANCE_SECS;
use shared::domain::SystemClock;
use shared::secrets::{SecretCache, DEFAULT_TTL};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let deps = stripe_webhook::Deps {
        secrets: StripeSecrets::new(
            SecretCache::new(SecretsManagerSource::new(aws_sdk_secretsmanager::Client::new(&config)), DEFAULT_TTL),
            env_required("STRIPE_SECRET_ID")?,
        ),
        inbox: DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env_required("TABLE_NAME")?),
        queue: SqsFifoQueue::new(aws_sdk_sqs::Client::new(&config), env_required("PAYMENTS_QUEUE_URL")?),
        clock: SystemClock,
        tolerance_secs: env_parsed("WEBHOOK_TOLERANCE_SECS", DEFAULT_TOLERANCE_SECS)?,
    };
    shared::http::run(&|req| stripe_webhook::handle(req, &deps)).await
}
