//! Table-stream consumer: delivers each outbox event (an audit entry written in the same
//! transaction as the change it reports, decision 0039) to the queues whose consumers want it:
//! booking events, messages, reviews and owners' payout news to the booking-events queue
//! (notifications), and those of them that go out by e-mail to the e-mail queue (`send-email`).
//! Every other event is already where it belongs, in its subject's trail.
//!
//! Records arrive in order per partition, so per subject. The first record that cannot be
//! delivered (its queue refuses, or it is not a valid event) ends the batch: the records before
//! it are checkpointed, it and the rest are retried, so a booking's events never overtake each
//! other. When it is the batch's first record the invocation fails instead, and Lambda bisects
//! the batch until a poison record is alone; after the retries it goes to the on-failure queue
//! and the records behind it flow on (decision 0029). A retried record is sent again with the
//! same deduplication id: SQS drops the repeat, and consumers deduplicate on the event id.

mod wiring;
pub use wiring::run;

use aws_lambda_events::event::streams::DynamoDbEventResponse;
use shared::adapters::dynamodb::outbox::{OutboxBatch, OutboxRecord};
use shared::domain::events::{DomainEvent, Route};
use shared::ports::EventQueues;
use shared::AppError;

pub async fn handle(batch: OutboxBatch, queues: &impl EventQueues) -> Result<DynamoDbEventResponse, AppError> {
    let records = &batch.records;
    let (events, mut first_failed) = decode(records);
    for route in Route::ALL {
        let routed: Vec<(usize, &DomainEvent)> =
            events.iter().filter(|(i, e)| *i < first_failed && e.goes_to(route)).map(|(i, e)| (*i, e)).collect();
        if routed.is_empty() {
            continue;
        }
        let refs: Vec<&DomainEvent> = routed.iter().map(|(_, e)| *e).collect();
        let sent = match queues.send(route, &refs).await {
            Ok(n) => n,
            Err(err) => {
                tracing::warn!(route = route.as_str(), error = %err.for_log(), "events not sent");
                0
            }
        };
        if let Some((i, _)) = routed.get(sent) {
            first_failed = first_failed.min(*i);
        }
    }
    let delivered = events.iter().filter(|(i, _)| *i < first_failed).count();
    tracing::info!(records = records.len(), delivered, failed_at = first_failed, "stream batch done");
    let failed = records.get(first_failed).map(|r| r.change.sequence_number.clone());
    shared::consumer::stream_response_at(first_failed, failed, "the batch's first record was not delivered")
}

/// The batch's outbox events with their record positions, up to the first record that is not a
/// valid event; and that record's position (the batch's length when there is none).
fn decode(records: &[OutboxRecord]) -> (Vec<(usize, DomainEvent)>, usize) {
    let mut events = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        match r.event() {
            None => {
                tracing::warn!(sequence_number = ?r.change.sequence_number, event_name = %r.event_name, "not an outbox insert; skipped")
            }
            Some(Ok(event)) => events.push((i, event)),
            Some(Err(err)) => {
                tracing::error!(sequence_number = ?r.change.sequence_number, error = %err.for_log(), "poison record: not an event");
                return (events, i);
            }
        }
    }
    (events, records.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::MemoryQueues;

    fn fixture() -> OutboxBatch {
        serde_json::from_str(include_str!("../../../events/publish-events.json")).unwrap()
    }

    fn failed(r: &DynamoDbEventResponse) -> Vec<String> {
        r.batch_item_failures.iter().filter_map(|f| f.item_identifier.clone()).collect()
    }

    #[tokio::test]
    async fn routes_the_events_someone_is_told_about() {
        let queues = MemoryQueues::default();
        let mut batch = fixture();
        batch.records.truncate(3); // the fixture's fourth record is poison
        let response = handle(batch, &queues).await.unwrap();
        assert!(failed(&response).is_empty());
        let sent = queues.sent.lock().unwrap();
        let to = |route| sent.iter().filter(|(r, _)| *r == route).map(|(_, e)| e.kind.clone()).collect::<Vec<_>>();
        assert_eq!(to(Route::BookingEvents), vec!["booking.requested", "booking.accepted"], "not user.registered");
        assert_eq!(to(Route::Email), vec!["booking.requested", "booking.accepted"], "both are e-mailed too");
        assert_eq!(sent.len(), 4);
    }

    #[tokio::test]
    async fn a_poison_record_ends_the_batch_and_first_in_line_fails_it() {
        let queues = MemoryQueues::default();
        let response = handle(fixture(), &queues).await.unwrap();
        assert_eq!(failed(&response), vec!["400"], "retried from the poison record");
        assert_eq!(queues.sent.lock().unwrap().len(), 4, "everything before it delivered, to both queues");

        let mut alone = fixture();
        alone.records.drain(..3);
        assert!(handle(alone, &MemoryQueues::default()).await.is_err(), "a failed invocation: Lambda bisects");
    }

    #[tokio::test]
    async fn a_refusing_queue_retries_from_the_first_undelivered_event_in_order() {
        let mut batch = fixture();
        batch.records.truncate(3);
        let accepted = batch.records[2].event();
        let queues = MemoryQueues::default();
        *queues.refuse.lock().unwrap() = Some(accepted.unwrap().unwrap().id);
        let response = handle(batch.clone(), &queues).await.unwrap();
        assert_eq!(failed(&response), vec!["300"]);

        *queues.refuse.lock().unwrap() = None;
        batch.records.drain(..2);
        let response = handle(batch, &queues).await.unwrap();
        assert!(failed(&response).is_empty());
        let sent = queues.sent.lock().unwrap();
        let booking: Vec<_> =
            sent.iter().filter(|(r, _)| *r == Route::BookingEvents).map(|(_, e)| e.kind.as_str()).collect();
        assert_eq!(booking, vec!["booking.requested", "booking.accepted"], "in order, once each");
    }

    #[tokio::test]
    async fn records_that_are_not_outbox_inserts_are_skipped() {
        let mut batch = fixture();
        batch.records.truncate(1);
        batch.records[0].event_name = "REMOVE".into();
        let queues = MemoryQueues::default();
        assert!(failed(&handle(batch, &queues).await.unwrap()).is_empty());
        assert!(queues.sent.lock().unwrap().is_empty());
    }
}
