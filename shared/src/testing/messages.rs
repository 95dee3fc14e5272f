//! Booking threads, with the same per-sender limits as the adapter.

use super::*;
use crate::domain::message::{preview, Delivery, Message, MessageId, SendLimits, ThreadSummary};
use crate::ports::MessageStore;

/// A member's entry for one thread, as the adapter's inbox item holds it.
#[derive(Debug, Clone)]
pub struct InboxEntry {
    pub summary: ThreadSummary,
    pub received: u64,
    pub read: u64,
    pub read_up_to: Option<MessageId>,
}

#[async_trait]
impl MessageStore for MemoryStore {
    async fn post_message(
        &self,
        delivery: Delivery<'_>,
        event: &DomainEvent,
        limits: SendLimits,
    ) -> Result<(), AppError> {
        let message = delivery.message;
        let at = message.sent_at;
        let windows = limits.windows(at)?;
        let mut counts = lock(&self.message_counts);
        for w in &windows {
            if counts.get(&(message.sender_id.clone(), w.key.clone())).is_some_and(|n| *n >= w.limit) {
                return Err(AppError::TooManyRequests { retry_after: crate::domain::seconds_until(w.ends, at) });
            }
        }
        for w in windows {
            *counts.entry((message.sender_id.clone(), w.key)).or_default() += 1;
        }
        lock(&self.messages).push(message.clone());
        let mut inbox = lock(&self.inbox);
        for (owner, other) in [(&message.sender_id, delivery.recipient), (delivery.recipient, &message.sender_id)] {
            let summary = ThreadSummary {
                booking_id: message.booking_id.clone(),
                listing_title: delivery.listing_title.to_owned(),
                other_party_id: other.clone(),
                last_message_at: message.sent_at,
                last_message_preview: preview(&message.text),
                unread: 0,
            };
            let entry = inbox.entry((owner.clone(), message.booking_id.clone())).or_insert(InboxEntry {
                summary: summary.clone(),
                received: 0,
                read: 0,
                read_up_to: None,
            });
            entry.summary = summary;
            entry.received += u64::from(owner == delivery.recipient);
        }
        self.outbox(event);
        Ok(())
    }

    async fn mark_thread_read(&self, booking: &BookingId, reader: &UserId, up_to: &MessageId) -> Result<u64, AppError> {
        let messages = lock(&self.messages);
        if !messages.iter().any(|m| &m.booking_id == booking && &m.id == up_to) {
            return Err(AppError::NotFound("message"));
        }
        let read = messages
            .iter()
            .filter(|m| &m.booking_id == booking && &m.sender_id != reader && m.id.as_str() <= up_to.as_str())
            .count() as u64;
        let mut inbox = lock(&self.inbox);
        let Some(entry) = inbox.get_mut(&(reader.clone(), booking.clone())) else {
            return Err(AppError::NotFound("message"));
        };
        if entry.read_up_to.as_ref().is_none_or(|r| r.as_str() < up_to.as_str()) {
            entry.read = read;
            entry.read_up_to = Some(up_to.clone());
        }
        Ok(entry.received.saturating_sub(entry.read))
    }

    async fn read_up_to(&self, booking: &BookingId, reader: &UserId) -> Result<Option<MessageId>, AppError> {
        Ok(lock(&self.inbox).get(&(reader.clone(), booking.clone())).and_then(|e| e.read_up_to.clone()))
    }

    async fn threads_of(
        &self,
        user: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<ThreadSummary>, AppError> {
        let mut mine: Vec<(String, ThreadSummary)> = lock(&self.inbox)
            .iter()
            .filter(|((owner, _), _)| owner == user)
            .map(|(_, e)| {
                let summary = ThreadSummary { unread: e.received.saturating_sub(e.read), ..e.summary.clone() };
                (format!("T#{}#{}", summary.last_message_at.timestamp_millis(), summary.booking_id), summary)
            })
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }

    async fn messages(
        &self,
        booking: &BookingId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Message>, AppError> {
        let mut mine: Vec<(String, Message)> = lock(&self.messages)
            .iter()
            .filter(|m| &m.booking_id == booking)
            .map(|m| (format!("MSG#{}", m.id), m.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }
}
