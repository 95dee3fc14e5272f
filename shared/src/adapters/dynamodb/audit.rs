//! The audit trail: one item per domain event, per subject.
//!
//! | item          | PK                 | SK                          |
//! |---------------|--------------------|-----------------------------|
//! | audit entry   | `AUDIT#{subject}`  | `EVT#{occurred_at}#{event}` |

use async_trait::async_trait;

use super::{is_condition_failure, s, timestamp, DynamoTable, DEP};
use crate::adapters::sdk_error;
use crate::domain::events::DomainEvent;
use crate::error::AppError;
use crate::ports::{AuditLog, Recorded};

#[async_trait]
impl AuditLog for DynamoTable {
    async fn record(&self, event: &DomainEvent) -> Result<Recorded, AppError> {
        // The key is derived from the event alone, so a redelivered event maps onto the same
        // item and the condition turns the repeat into a no-op.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(format!("AUDIT#{}", event.subject)))
            .item("SK", s(format!("EVT#{}#{}", timestamp(event.occurred_at), event.id)))
            .item("entity", s("audit"))
            .item("event_id", s(event.id.to_string()))
            .item("type", s(&event.kind))
            .item("actor", s(event.actor.clone().unwrap_or_default()))
            .item("occurred_at", s(timestamp(event.occurred_at)))
            // When the trail learnt of it: delivery order, next to the order things happened in.
            .item("recorded_at", s(timestamp(chrono::Utc::now())))
            .item("data", s(event.data.to_string()))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Recorded::New),
            Err(e) if is_condition_failure(&e) => Ok(Recorded::Duplicate),
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }
}
