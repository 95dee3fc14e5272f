//! A booking's messages and their senders' rate counters (decision 0037).
//!
//! | item            | PK                  | SK                         | TTL            |
//! |-----------------|---------------------|----------------------------|----------------|
//! | message         | `THREAD#{booking}`  | `MSG#{message id}`         | -              |
//! | minute counter  | `RATE#{user}`       | `MSG#{yyyy-mm-ddThh:mm}`   | 2 minutes on   |
//! | day counter     | `RATE#{user}`       | `MSG#{yyyy-mm-dd}`         | 2 days on      |
//!
//! A message, its sender's two counters and its event are one transaction: the counters'
//! conditions refuse a message over the minute's or the day's limit, and nothing is stored.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use super::outbox::event_put;
use super::{put, s, transaction_conflicted, transaction_failures, DynamoTable, Item, Partition, QueryPage, DEP};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::booking::BookingId;
use crate::domain::events::DomainEvent;
use crate::domain::message::{Message, MessageId, SendLimits};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{MessageStore, Page};

#[derive(Debug, Serialize, Deserialize)]
struct MessageItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: String,
    booking_id: String,
    sender_id: String,
    text: String,
    masked: bool,
    sent_at: DateTime<Utc>,
}

fn thread_pk(booking: &BookingId) -> String {
    format!("THREAD#{booking}")
}

fn message_from(item: Item) -> Result<Message, AppError> {
    let i: MessageItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let corrupt = |what: &str| AppError::internal(format!("stored message {} has an invalid {what}", i.id));
    Ok(Message {
        id: MessageId::parse(&i.id).map_err(|_| corrupt("id"))?,
        booking_id: BookingId::parse(&i.booking_id).map_err(|_| corrupt("booking_id"))?,
        sender_id: UserId::parse(&i.sender_id).map_err(|_| corrupt("sender_id"))?,
        text: i.text,
        masked: i.masked,
        sent_at: i.sent_at,
    })
}

/// A sender's counter for the window `key`, refused at `limit`, gone after `ttl`.
fn counter(
    table: &str,
    sender: &UserId,
    key: String,
    limit: u32,
    expires: DateTime<Utc>,
) -> Result<TransactWriteItem, AppError> {
    let update = Update::builder()
        .table_name(table)
        .key("PK", s(format!("RATE#{sender}")))
        .key("SK", s(format!("MSG#{key}")))
        .update_expression("ADD sent :one SET entity = :entity, expires_at = :expires")
        .condition_expression("attribute_not_exists(sent) OR sent < :limit")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
        .expression_attribute_values(":entity", s("rate_counter"))
        .expression_attribute_values(":expires", AttributeValue::N(expires.timestamp().to_string()))
        .build()
        .map_err(AppError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

#[async_trait]
impl MessageStore for DynamoTable {
    async fn post_message(&self, message: &Message, event: &DomainEvent, limits: SendLimits) -> Result<(), AppError> {
        let at = message.sent_at;
        let minute = at.duration_trunc(Duration::minutes(1)).map_err(AppError::internal)?;
        let day = at.duration_trunc(Duration::days(1)).map_err(AppError::internal)?;
        let item = serde_dynamo::to_item(MessageItem {
            pk: thread_pk(&message.booking_id),
            sk: format!("MSG#{}", message.id),
            entity: "message".into(),
            id: message.id.to_string(),
            booking_id: message.booking_id.to_string(),
            sender_id: message.sender_id.to_string(),
            text: message.text.clone(),
            masked: message.masked,
            sent_at: at,
        })
        .map_err(AppError::internal)?;
        let writes = vec![
            put(Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)"))?,
            counter(
                self.table(),
                &message.sender_id,
                minute.format("%Y-%m-%dT%H:%M").to_string(),
                limits.per_minute,
                minute + Duration::minutes(2),
            )?,
            counter(
                self.table(),
                &message.sender_id,
                day.format("%Y-%m-%d").to_string(),
                limits.per_day,
                day + Duration::days(2),
            )?,
            event_put(self.table(), event)?,
        ];
        // A sender's sends at the same moment (two tabs) touch the same counters: DynamoDB cancels
        // all but one with a conflict, having written nothing, so the same writes are tried again.
        for _ in 0..3 {
            let err = match self.client().transact_write_items().set_transact_items(Some(writes.clone())).send().await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            if transaction_conflicted(&err) {
                continue;
            }
            let failed = transaction_failures(&err);
            // The day's window is the later one: when both are full, it is the one to wait for.
            let full = if failed.get(2) == Some(&true) {
                Some(day + Duration::days(1))
            } else if failed.get(1) == Some(&true) {
                Some(minute + Duration::minutes(1))
            } else {
                None
            };
            return match full {
                Some(ends) => Err(AppError::TooManyRequests { retry_after: crate::domain::seconds_until(ends, at) }),
                None => Err(sdk_error(DEP, err)),
            };
        }
        Err(AppError::Unavailable { dependency: DEP.to_owned() })
    }

    async fn messages(
        &self,
        booking: &BookingId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Message>, AppError> {
        // Message ids are UUID v7: SK order is time order, newest first.
        let QueryPage { items, last_key, items_read, bytes_read } =
            self.newest_first(&Partition::TABLE, thread_pk(booking), "MSG#", limit, start).await?;
        let messages = items.into_iter().map(message_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: messages, last_key, items_read, bytes_read, capacity_units: 0.0 })
    }
}
