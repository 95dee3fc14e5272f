//! Booking-events consumer (SQS): writes the in-app notifications each move produces for
//! the renter and the owner. Notification ids derive from the event id, so a redelivered
//! event stores nothing twice. A malformed event fails, is retried and lands in the DLQ.

mod wiring;
pub use wiring::run;

use aws_lambda_events::event::sqs::SqsMessage;
use shared::domain::events::DomainEvent;
use shared::domain::notification;
use shared::ports::{NotificationStore, Recorded};
use shared::AppError;

pub async fn handle(message: SqsMessage, store: &impl NotificationStore) -> Result<(), AppError> {
    let event = DomainEvent::parse(message.body.as_deref().unwrap_or_default())?;
    for n in notification::for_event(&event)? {
        match store.put_notification(&n).await? {
            Recorded::New => {
                tracing::info!(event_id = %event.id, notification_id = %n.id, event_type = %event.kind, "notification written")
            }
            Recorded::Duplicate => {
                tracing::info!(event_id = %event.id, notification_id = %n.id, "duplicate delivery ignored")
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsEvent;
    use shared::testing::MemoryStore;

    #[tokio::test]
    async fn fixture_batch_writes_once_and_fails_only_the_bad_record() {
        let event: SqsEvent = serde_json::from_str(include_str!("../../../events/notifications.json")).unwrap();
        let store = MemoryStore::default();
        let resp = shared::consumer::process_batch(event.clone(), &|m| handle(m, &store)).await;
        let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        assert_eq!(failed, vec!["bad-1"]);
        assert_eq!(store.notifications.lock().unwrap().len(), 2, "renter and owner");
        shared::consumer::process_batch(event, &|m| handle(m, &store)).await;
        assert_eq!(store.notifications.lock().unwrap().len(), 2, "redelivery writes nothing new");
    }
}
