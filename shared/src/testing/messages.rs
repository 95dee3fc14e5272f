//! Threads and inquiries, with the same per-sender limits and one open inquiry per renter and
//! listing, as the adapters.

use super::*;
use crate::domain::inquiry::{Inquiry, InquiryId};
use crate::domain::message::{preview, Delivery, Message, MessageId, SendLimits, ThreadId, ThreadSummary};
use crate::ports::{InquiryStore, MessageStore};

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
        if let Some(inquiry) = delivery.opens {
            let key = (inquiry.listing_id.clone(), inquiry.renter_id.clone());
            if lock(&self.open_inquiries).contains_key(&key) {
                return Err(AppError::conflict("inquiry_open", "you have an open inquiry about this listing"));
            }
        }
        let mut counts = lock(&self.message_counts);
        for w in &windows {
            if counts.get(&(message.sender_id.clone(), w.key.clone())).is_some_and(|n| *n >= w.limit) {
                return Err(AppError::TooManyRequests { retry_after: crate::domain::seconds_until(w.ends, at) });
            }
        }
        for w in windows {
            *counts.entry((message.sender_id.clone(), w.key)).or_default() += 1;
        }
        if let Some(inquiry) = delivery.opens {
            lock(&self.inquiries).insert(inquiry.id.clone(), inquiry.clone());
            lock(&self.open_inquiries)
                .insert((inquiry.listing_id.clone(), inquiry.renter_id.clone()), inquiry.id.clone());
        }
        lock(&self.messages).push(message.clone());
        let mut inbox = lock(&self.inbox);
        for (owner, other) in [(&message.sender_id, delivery.recipient), (delivery.recipient, &message.sender_id)] {
            let summary = ThreadSummary {
                thread: message.thread.clone(),
                listing_title: delivery.listing_title.to_owned(),
                other_party_id: other.clone(),
                last_message_at: message.sent_at,
                last_message_preview: preview(&message.text),
                unread: 0,
            };
            let entry = inbox.entry((owner.clone(), message.thread.clone())).or_insert(InboxEntry {
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

    async fn mark_thread_read(&self, thread: &ThreadId, reader: &UserId, up_to: &MessageId) -> Result<u64, AppError> {
        let messages = lock(&self.messages);
        if !messages.iter().any(|m| &m.thread == thread && &m.id == up_to) {
            return Err(AppError::NotFound("message"));
        }
        let read = messages
            .iter()
            .filter(|m| &m.thread == thread && &m.sender_id != reader && m.id.as_str() <= up_to.as_str())
            .count() as u64;
        let mut inbox = lock(&self.inbox);
        let Some(entry) = inbox.get_mut(&(reader.clone(), thread.clone())) else {
            return Err(AppError::NotFound("message"));
        };
        if entry.read_up_to.as_ref().is_none_or(|r| r.as_str() < up_to.as_str()) {
            entry.read = read;
            entry.read_up_to = Some(up_to.clone());
        }
        Ok(entry.received.saturating_sub(entry.read))
    }

    async fn read_up_to(&self, thread: &ThreadId, reader: &UserId) -> Result<Option<MessageId>, AppError> {
        Ok(lock(&self.inbox).get(&(reader.clone(), thread.clone())).and_then(|e| e.read_up_to.clone()))
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
                (format!("T#{}#{}", summary.last_message_at.timestamp_millis(), summary.thread), summary)
            })
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }

    async fn messages(&self, thread: &ThreadId, limit: u32, start: Option<LastKey>) -> Result<Page<Message>, AppError> {
        let mut mine: Vec<(String, Message)> = lock(&self.messages)
            .iter()
            .filter(|m| &m.thread == thread)
            .map(|m| (format!("MSG#{}", m.id), m.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }
}

#[async_trait]
impl InquiryStore for MemoryStore {
    async fn inquiry(&self, id: &InquiryId) -> Result<Option<Inquiry>, AppError> {
        Ok(lock(&self.inquiries).get(id).cloned())
    }

    async fn open_inquiry(&self, listing: &ListingId, renter: &UserId) -> Result<Option<Inquiry>, AppError> {
        let id = lock(&self.open_inquiries).get(&(listing.clone(), renter.clone())).cloned();
        Ok(id.and_then(|id| lock(&self.inquiries).get(&id).cloned()))
    }
}

/// An inquiry of `renter` about a listing of `owner` (seeded), opened with "is it free?" at
/// `FixedClock`'s time.
pub async fn inquiry_of(store: &MemoryStore, renter: &str, owner: &str) -> Result<Inquiry, AppError> {
    let request = serde_json::from_value(serde_json::json!({
        "title": "Drill", "category": "tools", "location": {"city": "Lyon", "country": "FR"},
        "daily_price": {"amount": 1500, "currency": "EUR"}, "deposit": {"amount": 5000, "currency": "EUR"},
        "min_days": 1, "max_days": 14, "booking_mode": "request", "status": "active"
    }))
    .map_err(AppError::internal)?;
    let now = FixedClock::default().now();
    let listing = Listing::create(request, UserId::parse(owner)?, now)?;
    store.seed_listing(&listing).await;
    let (inquiry, _, _) =
        crate::messages::inquire(store, listing.id.as_str(), &UserId::parse(renter)?, "is it free?", now).await?;
    Ok(inquiry)
}
