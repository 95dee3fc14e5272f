//! The outbox is the audit trail: every state change writes its domain event as an audit entry
//! in the same transaction as the change; the table's stream carries the insert to
//! `publish-events` (decisions 0029, 0039).
//!
//! | item        | PK                 | SK                                 | TTL |
//! |-------------|--------------------|------------------------------------|-----|
//! | audit entry | `AUDIT#{subject}`  | `EVT#{occurred_at}#{event id}`     | -   |
//!
//! One partition per subject (`AUDIT#booking/{id}`) because DynamoDB Streams keep order per
//! partition key only: a booking's events reach the stream, and so its queue, in the order they
//! were written. The trail is kept (it is the record of who did what); nothing else is stored
//! for delivery, so nothing else grows.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::{put, s, timestamp, Item};
use crate::domain::events::DomainEvent;
use crate::error::AppError;

/// The sort-key prefix of audit entries: what the stream's filter selects.
pub const EVENT_SK_PREFIX: &str = "EVT#";

/// The partition of `subject`'s trail (`booking/{id}` -> `AUDIT#booking/{id}`).
fn trail_pk(subject: &str) -> Result<String, AppError> {
    match subject.split_once('/') {
        Some((kind, id)) if !kind.is_empty() && !id.is_empty() => Ok(format!("AUDIT#{subject}")),
        _ => Err(AppError::internal(format!("event subject {subject:?} is not kind/id"))),
    }
}

/// The audit entry of `event`: the event whole (what the stream delivers) and the fields an
/// operator reads the trail by.
pub(crate) fn event_item(event: &DomainEvent) -> Result<Item, AppError> {
    let body = serde_json::to_string(event).map_err(AppError::internal)?;
    let occurred = timestamp(event.occurred_at);
    Ok(Item::from([
        ("PK".to_owned(), s(trail_pk(&event.subject)?)),
        ("SK".to_owned(), s(format!("{EVENT_SK_PREFIX}{occurred}#{}", event.id))),
        ("entity".to_owned(), s("audit")),
        ("event_id".to_owned(), s(event.id.to_string())),
        ("type".to_owned(), s(&event.kind)),
        ("actor".to_owned(), s(event.actor.clone().unwrap_or_default())),
        ("occurred_at".to_owned(), s(occurred)),
        ("event".to_owned(), s(body)),
    ]))
}

/// The transaction write that stores `event` (new ids only: the condition guards a bug).
pub(crate) fn event_put(table: &str, event: &DomainEvent) -> Result<TransactWriteItem, AppError> {
    put(Put::builder()
        .table_name(table)
        .set_item(Some(event_item(event)?))
        .condition_expression("attribute_not_exists(PK)"))
}

/// The event of a stream record's new image, if the record is an audit entry's insert (the
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
        _ => Err(AppError::field("event", "the audit entry has no event")),
    })
}

/// The event an audit entry carries, from the item as read.
pub fn event_from_image(image: &Item) -> Result<DomainEvent, AppError> {
    match image.get("event") {
        Some(AttributeValue::S(body)) => DomainEvent::parse(body),
        _ => Err(AppError::field("event", "the audit entry has no event")),
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
            .expression_attribute_values(":pk", s(trail_pk(subject)?))
            .expression_attribute_values(":prefix", s(EVENT_SK_PREFIX))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::adapters::sdk_error(super::DEP, e))?;
        // Entries the retired audit-log consumer wrote (before decision 0039) carry no event.
        out.items.unwrap_or_default().iter().filter(|i| i.contains_key("event")).map(event_from_image).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_lives_in_its_subjects_trail_and_round_trips() {
        let e = DomainEvent::new(
            "booking.accepted",
            "booking/b-1".into(),
            None,
            chrono::Utc::now(),
            serde_json::json!({"a": 1}),
        );
        let item = event_item(&e).unwrap();
        assert_eq!(item["PK"], s("AUDIT#booking/b-1"));
        assert_eq!(item["SK"], s(format!("EVT#{}#{}", timestamp(e.occurred_at), e.id)));
        assert_eq!(item["type"], s("booking.accepted"));
        assert_eq!(event_from_image(&item).unwrap(), e);
        assert!(trail_pk("nope").is_err());
        assert!(event_from_image(&Item::new()).is_err());
    }
}
