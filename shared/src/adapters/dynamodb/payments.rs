//! DynamoDB adapter for the payment side's own records.
//!
//! | item            | PK                     | SK               |
//! |-----------------|------------------------|------------------|
//! | Stripe event    | `STRIPE_EVENT#{id}`    | `STRIPE_EVENT`   | (TTL 35 days: Stripe retries for 3)
//! | intent -> booking | `PAYMENT_INTENT#{id}` | `PAYMENT_INTENT` |

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::DEP;
use super::{s, DynamoTable};
use crate::adapters::sdk_error;
use crate::domain::booking::BookingId;
use crate::error::AppError;
use crate::ports::{IntentIndex, Recorded, WebhookInbox};

const EVENT_TTL_DAYS: i64 = 35;

#[async_trait]
impl WebhookInbox for DynamoTable {
    async fn record_event(&self, event_id: &str, now: DateTime<Utc>) -> Result<Recorded, AppError> {
        // Conditional on absence: of ten concurrent deliveries of one event, one records it.
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("PK", s(format!("STRIPE_EVENT#{event_id}")))
            .item("SK", s("STRIPE_EVENT"))
            .item("entity", s("stripe_event"))
            .item("received_at", s(now.to_rfc3339()))
            .item("expires_at", AttributeValue::N((now.timestamp() + EVENT_TTL_DAYS * 86_400).to_string()))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Recorded::New),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Ok(Recorded::Duplicate)
            }
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn forget_event(&self, event_id: &str) -> Result<(), AppError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .key("PK", s(format!("STRIPE_EVENT#{event_id}")))
            .key("SK", s("STRIPE_EVENT"))
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        Ok(())
    }
}

#[async_trait]
impl IntentIndex for DynamoTable {
    async fn link_intent(&self, intent_id: &str, booking: &BookingId) -> Result<(), AppError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .item("PK", s(format!("PAYMENT_INTENT#{intent_id}")))
            .item("SK", s("PAYMENT_INTENT"))
            .item("entity", s("payment_intent"))
            .item("booking_id", s(booking.to_string()))
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        Ok(())
    }

    async fn booking_for_intent(&self, intent_id: &str) -> Result<Option<BookingId>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(format!("PAYMENT_INTENT#{intent_id}")))
            .key("SK", s("PAYMENT_INTENT"))
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        match out.item.as_ref().and_then(|i| i.get("booking_id")).and_then(|v| v.as_s().ok()) {
            Some(id) => Ok(Some(
                BookingId::parse(id).map_err(|_| AppError::internal("intent index holds an invalid booking id"))?,
            )),
            None => Ok(None),
        }
    }
}
