//! SQS adapter: publishes domain events.

use crate::config::{env_required, ConfigError};
use async_trait::async_trait;
use aws_sdk_sqs::Client;

use super::sdk_error;
use crate::domain::events::DomainEvent;
use crate::error::AppError;
use crate::ports::EventPublisher;

#[derive(Clone, Debug)]
pub struct SqsEventPublisher {
    client: Client,
    queue_url: String,
}

impl SqsEventPublisher {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    /// The domain-events queue (`EVENTS_QUEUE_URL`).
    pub fn domain_events(config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(Client::new(config), env_required("EVENTS_QUEUE_URL")?))
    }

    /// The booking-events queue (`BOOKING_EVENTS_QUEUE_URL`).
    pub fn booking_events(config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(Client::new(config), env_required("BOOKING_EVENTS_QUEUE_URL")?))
    }
}

#[async_trait]
impl EventPublisher for SqsEventPublisher {
    async fn publish(&self, event: &DomainEvent) -> Result<(), AppError> {
        let body = serde_json::to_string(event).map_err(AppError::internal)?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| sdk_error("sqs", e))?;
        tracing::info!(event_id = %event.id, event_type = %event.kind, "event published");
        Ok(())
    }
}

/// The FIFO queue to the payment worker: one message group per booking keeps its events in
/// order; the deduplication id (the Stripe event id) drops repeats within SQS's 5 minutes.
#[derive(Clone, Debug)]
pub struct SqsFifoQueue {
    client: Client,
    queue_url: String,
}

impl SqsFifoQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    /// The payments FIFO queue (`PAYMENTS_QUEUE_URL`).
    pub fn payments(config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(Client::new(config), env_required("PAYMENTS_QUEUE_URL")?))
    }
}

#[async_trait]
impl crate::ports::PaymentEventQueue for SqsFifoQueue {
    async fn enqueue(&self, group: &str, deduplication_id: &str, body: &str) -> Result<(), AppError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_group_id(group)
            .message_deduplication_id(deduplication_id)
            .message_body(body)
            .send()
            .await
            .map_err(|e| sdk_error("sqs", e))?;
        Ok(())
    }
}
