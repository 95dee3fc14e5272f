//! SQS adapters: the event queues `publish-events` feeds and the payments FIFO queue.

use crate::config::{env_required, ConfigError};
use async_trait::async_trait;
use aws_sdk_sqs::Client;

use super::sdk_error;
use crate::domain::events::DomainEvent;
use crate::domain::events::Route;
use crate::error::AppError;
use crate::ports::EventQueues;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

/// The event queues `publish-events` delivers to: FIFO, one message group per subject (a
/// booking's events stay in order), the event id as deduplication id (a retried stream batch
/// sends nothing twice within SQS's 5 minutes; consumers deduplicate on it beyond that).
#[derive(Clone, Debug)]
pub struct SqsEventQueues {
    client: Client,
    booking_events: String,
    email: String,
}

impl SqsEventQueues {
    pub fn new(client: Client, booking_events: impl Into<String>, email: impl Into<String>) -> Self {
        Self { client, booking_events: booking_events.into(), email: email.into() }
    }

    /// `BOOKING_EVENTS_QUEUE_URL`, `EMAIL_QUEUE_URL`.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(Client::new(config), env_required("BOOKING_EVENTS_QUEUE_URL")?, env_required("EMAIL_QUEUE_URL")?))
    }

    fn url(&self, route: Route) -> &str {
        match route {
            Route::BookingEvents => &self.booking_events,
            Route::Email => &self.email,
        }
    }
}

#[async_trait]
impl EventQueues for SqsEventQueues {
    async fn send(&self, route: Route, events: &[&DomainEvent]) -> Result<usize, AppError> {
        let mut sent = 0;
        for chunk in events.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, event) in chunk.iter().enumerate() {
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(serde_json::to_string(event).map_err(AppError::internal)?)
                    .message_group_id(&event.subject)
                    .message_deduplication_id(event.id.to_string())
                    .build()
                    .map_err(AppError::internal)?;
                entries.push(entry);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(self.url(route))
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("sqs", e))?;
            // Entries are independent: the first refused one ends the prefix that was sent.
            let first_failed = out.failed.iter().filter_map(|f| f.id.parse::<usize>().ok()).min();
            if let Some(i) = first_failed {
                let reason = out.failed.iter().map(|f| f.code.as_str()).collect::<Vec<_>>().join(",");
                tracing::warn!(route = route.as_str(), failed = out.failed.len(), reason = %reason, "events refused by the queue");
                return Ok(sent + i);
            }
            sent += chunk.len();
        }
        Ok(sent)
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
