//! Health probes: the cheapest read-only call that proves each dependency answers and our
//! role may use it. None reads data or secret values.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;

use crate::ports::HealthProbe;

fn reason<E: std::error::Error>(e: E) -> String {
    // The SDK's context says e.g. "ResourceNotFoundException: ... not found"; keep it short.
    let text = DisplayErrorContext(&e).to_string();
    text.chars().take(200).collect()
}

pub struct DynamoTableProbe {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

#[async_trait]
impl HealthProbe for DynamoTableProbe {
    fn name(&self) -> &'static str {
        "dynamodb"
    }
    async fn probe(&self) -> Result<(), String> {
        self.client.describe_table().table_name(&self.table).send().await.map(|_| ()).map_err(reason)
    }
}

pub struct S3BucketProbe {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
}

#[async_trait]
impl HealthProbe for S3BucketProbe {
    fn name(&self) -> &'static str {
        "s3"
    }
    async fn probe(&self) -> Result<(), String> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map(|_| ()).map_err(reason)
    }
}

pub struct SqsQueueProbe {
    /// Reported name, e.g. `sqs` or `sqs:payments` when there are several queues.
    pub label: &'static str,
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
}

#[async_trait]
impl HealthProbe for SqsQueueProbe {
    fn name(&self) -> &'static str {
        self.label
    }
    async fn probe(&self) -> Result<(), String> {
        self.client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map(|_| ())
            .map_err(reason)
    }
}

pub struct SecretProbe {
    /// Reported name, e.g. `secretsmanager:stripe`.
    pub label: &'static str,
    pub client: aws_sdk_secretsmanager::Client,
    pub secret_id: String,
}

#[async_trait]
impl HealthProbe for SecretProbe {
    fn name(&self) -> &'static str {
        self.label
    }
    async fn probe(&self) -> Result<(), String> {
        // DescribeSecret reads metadata only, never the value.
        self.client.describe_secret().secret_id(&self.secret_id).send().await.map(|_| ()).map_err(reason)
    }
}

/// A probe for every dependency some function uses: the table, the uploads bucket, each queue
/// and each secret, named by the same variables the functions read.
pub fn every_dependency(
    config: &aws_config::SdkConfig,
) -> Result<Vec<Box<dyn HealthProbe>>, crate::config::ConfigError> {
    use crate::config::{env_required, s3_client};
    let sqs = aws_sdk_sqs::Client::new(config);
    let secrets = aws_sdk_secretsmanager::Client::new(config);
    Ok(vec![
        Box::new(DynamoTableProbe {
            client: aws_sdk_dynamodb::Client::new(config),
            table: env_required("TABLE_NAME")?,
        }),
        Box::new(S3BucketProbe { client: s3_client(config), bucket: env_required("UPLOADS_BUCKET")? }),
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
        Box::new(crate::adapters::opensearch::OpenSearch::from_env(config)?),
    ])
}
