//! The outbox: every state change writes its domain event as an item in the same transaction
//! as the change; the table's stream carries it to `publish-events` (decision 0029).
//!
//! | item   | PK                                              | SK                 | TTL            |
//! |--------|-------------------------------------------------|--------------------|----------------|
//! | event  | its subject's partition: `booking/{id}` -> `BOOKING#{id}` | `EVENT#{event id}` | `expires_at`: occurred + 48 h |
//!
//! In the subject's partition because DynamoDB Streams keep order per partition key only:
//! a booking's events reach the stream, and so its queues, in the order they were written.
//! The TTL outlives the stream's 24 h retention, so an undelivered event can still be found.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::{put, s, Item};
use crate::domain::events::DomainEvent;
use crate::error::AppError;

/// The sort-key prefix of outbox items: what the stream's filter selects.
pub const EVENT_SK_PREFIX: &str = "EVENT#";
/// How long an outbox item stays after its event occurred.
const EVENT_TTL_HOURS: i64 = 48;

/// The partition key of `subject`'s items: `booking/{id}` -> `BOOKING#{id}`.
fn subject_pk(subject: &str) -> Result<String, AppError> {
    match subject.split_once('/') {
        Some((kind, id)) if !kind.is_empty() && !id.is_empty() => Ok(format!("{}#{id}", kind.to_ascii_uppercase())),
        _ => Err(AppError::internal(format!("event subject {subject:?} is not kind/id"))),
    }
}

/// The outbox item of `event`.
pub(crate) fn event_item(event: &DomainEvent) -> Result<Item, AppError> {
    let body = serde_json::to_string(event).map_err(AppError::internal)?;
    let expires = event.occurred_at.timestamp() + EVENT_TTL_HOURS * 3600;
    Ok(Item::from([
        ("PK".to_owned(), s(subject_pk(&event.subject)?)),
        ("SK".to_owned(), s(format!("{EVENT_SK_PREFIX}{}", event.id))),
        ("entity".to_owned(), s("event")),
        ("event".to_owned(), s(body)),
        ("expires_at".to_owned(), AttributeValue::N(expires.to_string())),
    ]))
}

/// The transaction write that stores `event` (new ids only: the condition guards a bug).
pub(crate) fn event_put(table: &str, event: &DomainEvent) -> Result<TransactWriteItem, AppError> {
    put(Put::builder()
        .table_name(table)
        .set_item(Some(event_item(event)?))
        .condition_expression("attribute_not_exists(PK)"))
}

/// The event of a stream record's new image, if the record is an outbox item's insert (the
/// stream's filter passes nothing else; a record that is not one is `None`, and skipped).
pub fn event_from_stream(
    event_name: &str,
    keys: &serde_dynamo::Item,
    image: &serde_dynamo::Item,
) -> Option<Result<DomainEvent, AppError>> {
    let outbox = matches!(keys.get("SK"), Some(serde_dynamo::AttributeValue::S(sk)) if sk.starts_with(EVENT_SK_PREFIX));
    if event_name != "INSERT" || !outbox {
        return None;
    }
    Some(match image.get("event") {
        Some(serde_dynamo::AttributeValue::S(body)) => DomainEvent::parse(body),
        _ => Err(AppError::field("event", "the outbox item has no event")),
    })
}

/// The event an outbox item carries, from the item as read.
pub fn event_from_image(image: &Item) -> Result<DomainEvent, AppError> {
    match image.get("event") {
        Some(AttributeValue::S(body)) => DomainEvent::parse(body),
        _ => Err(AppError::field("event", "the outbox item has no event")),
    }
}

#[async_trait::async_trait]
impl crate::ports::Outbox for super::DynamoTable {
    async fn events_of(&self, subject: &str) -> Result<Vec<DomainEvent>, AppError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(subject_pk(subject)?))
            .expression_attribute_values(":prefix", s(EVENT_SK_PREFIX))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::adapters::sdk_error(super::DEP, e))?;
        out.items.unwrap_or_default().iter().map(event_from_image).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_lives_in_its_subjects_partition_and_round_trips() {
        let e = DomainEvent::new(
            "booking.accepted",
            "booking/b-1".into(),
            None,
            chrono::Utc::now(),
            serde_json::json!({"a": 1}),
        );
        let item = event_item(&e).unwrap();
        assert_eq!(item["PK"], s("BOOKING#b-1"));
        assert_eq!(item["SK"], s(format!("EVENT#{}", e.id)));
        assert_eq!(event_from_image(&item).unwrap(), e);
        assert!(subject_pk("nope").is_err());
        assert!(event_from_image(&Item::new()).is_err());
    }
}
