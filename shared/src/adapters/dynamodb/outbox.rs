//! The outbox is the audit trail: every state change writes its domain event as an audit entry
//! in the same transaction as the change; the table's stream carries the insert to
//! `publish-events` (decisions 0029, 0039).
//!
//! | item        | PK                 | SK                                 | TTL                       |
//! |-------------|--------------------|------------------------------------|---------------------------|
//! | audit entry | `AUDIT#{subject}`  | `EVT#{occurred_at}#{event id}`     | `expires_at`: 2 years on  |
//!
//! One partition per subject (`AUDIT#booking/{id}`) because DynamoDB Streams keep order per
//! partition key only: a booking's events reach the stream, and so its queue, in the order they
//! were written. The trail is kept for two years (the record of who did what, and when); nothing
//! else is stored for delivery.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::Deserialize;

use super::{put, s, timestamp, Item};
use crate::domain::events::DomainEvent;
use crate::error::AppError;

/// The sort-key prefix of audit entries: what the stream's filter selects.
pub const EVENT_SK_PREFIX: &str = "EVT#";
/// The sort-key prefix of outbox items written before decision 0039 (kept 48 h), which the
/// stream's filter still passes so none written during a deployment is skipped.
const LEGACY_EVENT_SK_PREFIX: &str = "EVENT#";
/// How long an audit entry is kept after its event occurred (decision 0039).
const RETENTION_DAYS: i64 = 730;

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
    let expires = (event.occurred_at + chrono::Duration::days(RETENTION_DAYS)).timestamp();
    Ok(Item::from([
        ("PK".to_owned(), s(trail_pk(&event.subject)?)),
        ("SK".to_owned(), s(format!("{EVENT_SK_PREFIX}{occurred}#{}", event.id))),
        ("entity".to_owned(), s("audit")),
        ("event_id".to_owned(), s(event.id.to_string())),
        ("type".to_owned(), s(&event.kind)),
        ("actor".to_owned(), s(event.actor.clone().unwrap_or_default())),
        ("occurred_at".to_owned(), s(occurred)),
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

/// A table-stream batch as `publish-events` reads it: of each record only what delivery needs
/// (its name, sort key, sequence number and the new image's `event`). Lambda's JSON is the
/// full record; the rest (other attributes, the old image) is skipped unread, which costs less
/// than building every image as attribute maps.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutboxBatch {
    #[serde(rename = "Records", default)]
    pub records: Vec<OutboxRecord>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutboxRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    #[serde(rename = "dynamodb", default)]
    pub change: OutboxChange,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutboxChange {
    #[serde(rename = "Keys", default)]
    keys: OutboxKeys,
    #[serde(rename = "NewImage", default)]
    new_image: OutboxImage,
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct OutboxKeys {
    #[serde(rename = "SK", default)]
    sk: Option<StringValue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct OutboxImage {
    #[serde(default)]
    event: Option<StringValue>,
}

/// A string attribute as the stream writes it (`{"S": "..."}`).
#[derive(Debug, Clone, Deserialize)]
struct StringValue {
    #[serde(rename = "S")]
    s: String,
}

impl OutboxRecord {
    /// The record's event if it is the insert of an audit entry (or of an outbox item written
    /// before decision 0039); `None`, and skipped, for anything else, including the entries the
    /// retired audit-log consumer wrote (no `event`). An error if its event is unreadable.
    pub fn event(&self) -> Option<Result<DomainEvent, AppError>> {
        let sk = self.change.keys.sk.as_ref().map(|sk| sk.s.as_str()).unwrap_or_default();
        let outbox = sk.starts_with(EVENT_SK_PREFIX) || sk.starts_with(LEGACY_EVENT_SK_PREFIX);
        if self.event_name != "INSERT" || !outbox {
            return None;
        }
        self.change.new_image.event.as_ref().map(|body| DomainEvent::parse(&body.s))
    }
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
        let expires = (e.occurred_at + chrono::Duration::days(730)).timestamp();
        assert_eq!(item["expires_at"], AttributeValue::N(expires.to_string()), "kept two years");
        assert_eq!(event_from_image(&item).unwrap(), e);
        assert!(trail_pk("nope").is_err());
        assert!(event_from_image(&Item::new()).is_err());
    }

    #[test]
    fn a_stream_record_is_read_for_its_event_only() {
        let e =
            DomainEvent::new("booking.accepted", "booking/b-1".into(), None, chrono::Utc::now(), serde_json::json!({}));
        let body = serde_json::to_string(&e).unwrap();
        let record = |name: &str, sk: &str| {
            serde_json::json!({"eventID": "1", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": {
                "Keys": {"PK": {"S": "AUDIT#booking/b-1"}, "SK": {"S": sk}},
                "NewImage": {"PK": {"S": "AUDIT#booking/b-1"}, "SK": {"S": sk}, "event": {"S": body}, "n": {"N": "1"},
                             "list": {"L": [{"M": {"a": {"BOOL": true}}}]}},
                "OldImage": {"x": {"NULL": true}},
                "SequenceNumber": "42", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"}})
        };
        let batch: OutboxBatch = serde_json::from_value(serde_json::json!({"Records": [
            record("INSERT", "EVT#t#1"), record("MODIFY", "EVT#t#1"), record("INSERT", "LISTING"),
            record("INSERT", "EVENT#1"),
        ]}))
        .unwrap();
        assert_eq!(batch.records[0].event().unwrap().unwrap(), e);
        assert_eq!(batch.records[3].event().unwrap().unwrap(), e, "an outbox item of before 0039");
        assert_eq!(batch.records[0].change.sequence_number.as_deref(), Some("42"));
        assert!(batch.records[1].event().is_none(), "not an insert");
        assert!(batch.records[2].event().is_none(), "not an audit entry");
        let empty: OutboxBatch = serde_json::from_value(serde_json::json!({"Records": [
            {"eventName": "INSERT", "dynamodb": {"Keys": {"SK": {"S": "EVT#t#2"}}, "SequenceNumber": "43"}}
        ]}))
        .unwrap();
        assert!(empty.records[0].event().is_none(), "an entry the retired audit-log wrote: skipped");
        let poison: OutboxBatch = serde_json::from_value(serde_json::json!({"Records": [
            {"eventName": "INSERT", "dynamodb": {"Keys": {"SK": {"S": "EVT#t#3"}}, "NewImage": {"event": {"S": "{}"}}}}
        ]}))
        .unwrap();
        assert!(poison.records[0].event().unwrap().is_err(), "an unreadable event is poison");
    }
}
