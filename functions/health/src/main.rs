use std::time::Duration;

use shared::adapters::health::{DynamoTableProbe, S3BucketProbe, SecretProbe, SqsQueueProbe};
use shared::config::{aws_sdk_config, env_parsed, env_required, s3_client};
use shared::ports::HealthProbe;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let timeout = Duration::from_millis(env_parsed("HEALTH_PROBE_TIMEOUT_MS", 1500)?);
    // How long an instance answers with its last report before probing again (0: never reuse).
    let cache = health::ReportCache::new(Duration::from_millis(env_parsed("HEALTH_CACHE_MS", 5000)?));
    // Every dependency some function uses: the table, the uploads bucket, each queue, each secret.
    let sqs = aws_sdk_sqs::Client::new(&config);
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let probes: Vec<Box<dyn HealthProbe>> = vec![
        Box::new(DynamoTableProbe {
            client: aws_sdk_dynamodb::Client::new(&config),
            table: env_required("TABLE_NAME")?,
        }),
        Box::new(S3BucketProbe { client: s3_client(&config), bucket: env_required("UPLOADS_BUCKET")? }),
        Box::new(SqsQueueProbe {
            label: "sqs:domain-events",
            client: sqs.clone(),
            queue_url: env_required("EVENTS_QUEUE_URL")?,
        }),
        Box::new(SqsQueueProbe {
            label: "sqs:booking-events",
            client: sqs.clone(),
            queue_url: env_required("BOOKING_EVENTS_QUEUE_URL")?,
        }),
        Box::new(SqsQueueProbe { label: "sqs:payments", client: sqs, queue_url: env_required("PAYMENTS_QUEUE_URL")? }),
        Box::new(SecretProbe {
            label: "secretsmanager:stripe",
            client: secrets.clone(),
            secret_id: env_required("STRIPE_SECRET_ID")?,
        }),
        Box::new(SecretProbe {
            label: "secretsmanager:cursor",
            client: secrets,
            secret_id: env_required("CURSOR_SECRET_ID")?,
        }),
    ];
    shared::http::run(&|_req| health::handle(&probes, timeout, &cache)).await
}
