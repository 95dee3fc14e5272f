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
