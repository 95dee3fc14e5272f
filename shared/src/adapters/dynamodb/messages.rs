//! A thread's messages and their senders' rate counters (decision 0037). A thread is a
//! booking's or an inquiry's (decision 0041), keyed by its id (both UUIDs).
//!
//! | item            | PK                  | SK                         | TTL            |
//! |-----------------|---------------------|----------------------------|----------------|
//! | message         | `THREAD#{thread}`   | `MSG#{message id}`         | -              |
//! | minute counter  | `RATE#{user}`       | `MSG#{yyyy-mm-ddThh:mm}`   | a day on       |
//! | day counter     | `RATE#{user}`       | `MSG#{yyyy-mm-dd}`         | 2 days on      |
//! | inbox entry     | `INBOX#{user}`      | `THREAD#{thread}`          | -              |
//!
//! Inbox entries are also in GSI1 (`THREADS#{user}` / `T#{last message at}#{thread}`), most
//! recently active first. An entry counts the messages `received` from the other party and,
//! as of its `read_up_to`, those `read`: unread is the difference.
//!
//! A message, its sender's two counters, both parties' inbox entries and its event are one
//! transaction: the counters' conditions refuse a message over the minute's or the day's
//! limit, and nothing is stored. An inquiry's first message opens it in the same transaction
//! (`inquiries::opening`).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::outbox::event_put;
use super::{put, s, transaction_conflicted, transaction_failures, DynamoTable, Item, Partition, QueryPage, DEP};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::events::DomainEvent;
use crate::domain::message::{preview, Delivery, Message, MessageId, SendLimits, SendWindow, ThreadId, ThreadSummary};
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    booking_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inquiry_id: Option<String>,
    sender_id: String,
    text: String,
    masked: bool,
    sent_at: DateTime<Utc>,
}

fn thread_pk(thread: &ThreadId) -> String {
    format!("THREAD#{}", thread.key())
}

/// The attribute naming `thread` (`booking_id`, `inquiry_id`) and its value.
fn thread_attribute(thread: &ThreadId) -> (&'static str, String) {
    match thread {
        ThreadId::Booking(id) => ("booking_id", id.to_string()),
        ThreadId::Inquiry(id) => ("inquiry_id", id.to_string()),
    }
}

fn message_from(item: Item) -> Result<Message, AppError> {
    let i: MessageItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let corrupt = |what: &str| AppError::internal(format!("stored message {} has an invalid {what}", i.id));
    Ok(Message {
        id: MessageId::parse(&i.id).map_err(|_| corrupt("id"))?,
        thread: ThreadId::parse(i.booking_id.as_deref(), i.inquiry_id.as_deref()).map_err(|_| corrupt("thread"))?,
        sender_id: UserId::parse(&i.sender_id).map_err(|_| corrupt("sender_id"))?,
        text: i.text,
        masked: i.masked,
        sent_at: i.sent_at,
    })
}

/// A sender's counter for `window`, refused at its limit, kept a day after the window ends.
fn counter(table: &str, sender: &UserId, window: &SendWindow) -> Result<TransactWriteItem, AppError> {
    let expires = window.ends + Duration::days(1);
    let update = Update::builder()
        .table_name(table)
        .key("PK", s(format!("RATE#{sender}")))
        .key("SK", s(format!("MSG#{}", window.key)))
        .update_expression("ADD sent :one SET entity = :entity, expires_at = :expires")
        .condition_expression("attribute_not_exists(sent) OR sent < :limit")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":limit", AttributeValue::N(window.limit.to_string()))
        .expression_attribute_values(":entity", s("rate_counter"))
        .expression_attribute_values(":expires", AttributeValue::N(expires.timestamp().to_string()))
        .build()
        .map_err(AppError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn inbox_key(user: &UserId, thread: &ThreadId) -> [(String, AttributeValue); 2] {
    [("PK".to_owned(), s(format!("INBOX#{user}"))), ("SK".to_owned(), s(thread_pk(thread)))]
}

/// `owner`'s inbox entry of the delivery's thread moved to its message; `received` counts it
/// when `owner` is the recipient.
fn inbox_update(table: &str, d: &Delivery<'_>, owner: &UserId, received: bool) -> Result<TransactWriteItem, AppError> {
    let m = d.message;
    let other = if owner == d.recipient { &m.sender_id } else { d.recipient };
    let at = super::timestamp(m.sent_at);
    let (thread_name, thread_id) = thread_attribute(&m.thread);
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(inbox_key(owner, &m.thread).into_iter().collect()))
        .update_expression(
            "SET entity = :entity, #thread = :thread, listing_title = :title, other_party_id = :other, \
             last_message_at = :at, preview = :preview, GSI1PK = :gpk, GSI1SK = :gsk ADD received :n",
        )
        .expression_attribute_names("#thread", thread_name)
        .expression_attribute_values(":entity", s("inbox_entry"))
        .expression_attribute_values(":thread", s(thread_id))
        .expression_attribute_values(":title", s(d.listing_title))
        .expression_attribute_values(":other", s(other.to_string()))
        .expression_attribute_values(":at", s(&at))
        .expression_attribute_values(":preview", s(preview(&m.text)))
        .expression_attribute_values(":gpk", s(format!("THREADS#{owner}")))
        .expression_attribute_values(":gsk", s(format!("T#{at}#{}", m.thread.key())))
        .expression_attribute_values(":n", AttributeValue::N(u8::from(received).to_string()))
        .build()
        .map_err(AppError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn number(item: &Item, name: &str) -> u64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn unread_of(item: &Item) -> u64 {
    number(item, "received").saturating_sub(number(item, "read"))
}

fn summary_from(item: Item) -> Result<ThreadSummary, AppError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let named = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str);
    let corrupt = |what: &str| AppError::internal(format!("stored inbox entry has an invalid {what}"));
    Ok(ThreadSummary {
        thread: ThreadId::parse(named("booking_id"), named("inquiry_id")).map_err(|_| corrupt("thread"))?,
        listing_title: text("listing_title"),
        other_party_id: UserId::parse(&text("other_party_id")).map_err(|_| corrupt("other_party_id"))?,
        last_message_at: DateTime::parse_from_rfc3339(&text("last_message_at"))
            .map_err(|_| corrupt("last_message_at"))?
            .to_utc(),
        last_message_preview: text("preview"),
        unread: unread_of(&item),
    })
}

#[async_trait]
impl MessageStore for DynamoTable {
    async fn post_message(
        &self,
        delivery: Delivery<'_>,
        event: &DomainEvent,
        limits: SendLimits,
    ) -> Result<(), AppError> {
        let message = delivery.message;
        let at = message.sent_at;
        let windows = limits.windows(at)?;
        let (booking_id, inquiry_id) = match &message.thread {
            ThreadId::Booking(id) => (Some(id.to_string()), None),
            ThreadId::Inquiry(id) => (None, Some(id.to_string())),
        };
        let item = serde_dynamo::to_item(MessageItem {
            pk: thread_pk(&message.thread),
            sk: format!("MSG#{}", message.id),
            entity: "message".into(),
            id: message.id.to_string(),
            booking_id,
            inquiry_id,
            sender_id: message.sender_id.to_string(),
            text: message.text.clone(),
            masked: message.masked,
            sent_at: at,
        })
        .map_err(AppError::internal)?;
        let mut writes = vec![
            put(Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)"))?,
            counter(self.table(), &message.sender_id, &windows[0])?,
            counter(self.table(), &message.sender_id, &windows[1])?,
            inbox_update(self.table(), &delivery, &message.sender_id, false)?,
            inbox_update(self.table(), &delivery, delivery.recipient, true)?,
            event_put(self.table(), event)?,
        ];
        // Last, so a taken marker is the last write's failure.
        if let Some(inquiry) = delivery.opens {
            writes.extend(super::inquiries::opening(self.table(), inquiry)?);
        }
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
            // The counters are writes 1 and 2, in the windows' order.
            let failed = transaction_failures(&err);
            if delivery.opens.is_some() && failed.last() == Some(&true) {
                return Err(AppError::conflict("inquiry_open", "you have an open inquiry about this listing"));
            }
            let full = windows.iter().enumerate().find(|(i, _)| failed.get(i + 1) == Some(&true));
            return match full {
                Some((_, w)) => {
                    Err(AppError::TooManyRequests { retry_after: crate::domain::seconds_until(w.ends, at) })
                }
                None => Err(sdk_error(DEP, err)),
            };
        }
        Err(AppError::Unavailable { dependency: DEP.to_owned() })
    }

    async fn messages(&self, thread: &ThreadId, limit: u32, start: Option<LastKey>) -> Result<Page<Message>, AppError> {
        // Message ids are UUID v7: SK order is time order, newest first.
        let QueryPage { items, last_key, items_read, bytes_read } =
            self.newest_first(&Partition::TABLE, thread_pk(thread), "MSG#", limit, start).await?;
        let messages = items.into_iter().map(message_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: messages, last_key, items_read, bytes_read, capacity_units: 0.0 })
    }

    async fn mark_thread_read(&self, thread: &ThreadId, reader: &UserId, up_to: &MessageId) -> Result<u64, AppError> {
        let up_to_sk = format!("MSG#{up_to}");
        // The thread up to that message, newest first, keys and senders only: the first item
        // says whether the message is in the thread, the senders what the other party sent.
        let (mut read, mut start, mut found) = (0u64, None, None);
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :first AND :last")
                .expression_attribute_values(":pk", s(thread_pk(thread)))
                .expression_attribute_values(":first", s("MSG#"))
                .expression_attribute_values(":last", s(&up_to_sk))
                .projection_expression("SK, sender_id")
                .scan_index_forward(false)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(DEP, e))?;
            let items = out.items.unwrap_or_default();
            let text = |item: &Item, name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            found = found.or_else(|| Some(items.first().and_then(|i| text(i, "SK")) == Some(up_to_sk.clone())));
            read += items.iter().filter(|i| text(i, "sender_id").as_deref() != Some(reader.as_str())).count() as u64;
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        if found != Some(true) {
            return Err(AppError::NotFound("message"));
        }
        let key: std::collections::HashMap<String, AttributeValue> = inbox_key(reader, thread).into_iter().collect();
        let updated = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key))
            .update_expression("SET #read = :read, read_up_to = :up")
            .condition_expression("attribute_exists(PK) AND (attribute_not_exists(read_up_to) OR read_up_to < :up)")
            .expression_attribute_names("#read", "read")
            .expression_attribute_values(":read", AttributeValue::N(read.to_string()))
            .expression_attribute_values(":up", s(up_to.to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match updated {
            Ok(out) => Ok(unread_of(&out.attributes.unwrap_or_default())),
            Err(e) => match e.as_service_error() {
                // Read further already: the count stands as it is. No entry: not a party, who is
                // told what a party with a wrong message id is, so nothing about the thread shows.
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(
                    failed,
                )) => match &failed.item {
                    Some(entry) => Ok(unread_of(entry)),
                    None => Err(AppError::NotFound("message")),
                },
                _ => Err(sdk_error(DEP, e)),
            },
        }
    }

    async fn read_up_to(&self, thread: &ThreadId, reader: &UserId) -> Result<Option<MessageId>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(inbox_key(reader, thread).into_iter().collect()))
            .projection_expression("read_up_to")
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        let raw = out.item.as_ref().and_then(|i| i.get("read_up_to")).and_then(|v| v.as_s().ok()).cloned();
        raw.map(|r| MessageId::parse(&r).map_err(|_| AppError::internal("stored read_up_to is not a message id")))
            .transpose()
    }

    async fn threads_of(
        &self,
        user: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<ThreadSummary>, AppError> {
        let gsi1 = Partition { index: Some("GSI1"), pk_attr: "GSI1PK", sk_attr: "GSI1SK" };
        let QueryPage { items, last_key, items_read, bytes_read } =
            self.newest_first(&gsi1, format!("THREADS#{user}"), "T#", limit, start).await?;
        let threads = items.into_iter().map(summary_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: threads, last_key, items_read, bytes_read, capacity_units: 0.0 })
    }
}
