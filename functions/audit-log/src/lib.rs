//! Domain-events consumer (SQS): appends every event to its subject's audit trail, once.
//! A message that is not a valid event fails, is retried, and lands in the DLQ after the
//! queue's `maxReceiveCount`, where it can be inspected and redriven.

mod wiring;
pub use wiring::run;

use aws_lambda_events::event::sqs::SqsMessage;
use shared::domain::events::DomainEvent;
use shared::ports::{AuditLog, Recorded};
use shared::AppError;

pub async fn handle(message: SqsMessage, log: &impl AuditLog) -> Result<(), AppError> {
    let body = message.body.as_deref().unwrap_or_default();
    let event = DomainEvent::parse(body)?;
    match log.record(&event).await? {
        Recorded::New => tracing::info!(event_id = %event.id, event_type = %event.kind, "audit entry written"),
        Recorded::Duplicate => tracing::info!(event_id = %event.id, "duplicate delivery ignored"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsEvent;
    use shared::testing::MemoryStore;

    #[tokio::test]
    async fn fixture_batch_reports_only_the_bad_record() {
        let event: SqsEvent = serde_json::from_str(include_str!("../../../events/audit-log.json")).unwrap();
        let store = MemoryStore::default();
        let resp = shared::consumer::process_batch(event.clone(), &|m| handle(m, &store)).await;
        let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        assert_eq!(failed, vec!["22222222-2222-2222-2222-222222222222"]);
        assert_eq!(store.audit.lock().unwrap().len(), 1);

        // Redelivery of the same batch writes nothing new.
        shared::consumer::process_batch(event, &|m| handle(m, &store)).await;
        assert_eq!(store.audit.lock().unwrap().len(), 1);
    }
}
