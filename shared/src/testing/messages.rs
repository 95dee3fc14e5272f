//! Booking threads, with the same per-sender limits as the adapter.

use super::*;
use crate::domain::message::{Message, SendLimits};
use crate::ports::MessageStore;

#[async_trait]
impl MessageStore for MemoryStore {
    async fn post_message(&self, message: &Message, event: &DomainEvent, limits: SendLimits) -> Result<(), AppError> {
        use chrono::{Duration, DurationRound};
        let at = message.sent_at;
        let minute = at.duration_trunc(Duration::minutes(1)).map_err(AppError::internal)?;
        let day = at.duration_trunc(Duration::days(1)).map_err(AppError::internal)?;
        // The day first: when both are full, its (later) end is the one to wait for.
        let windows = [
            (format!("{day}"), limits.per_day, day + Duration::days(1)),
            (format!("{minute}"), limits.per_minute, minute + Duration::minutes(1)),
        ];
        let mut counts = lock(&self.message_counts);
        for (window, limit, ends) in &windows {
            if counts.get(&(message.sender_id.clone(), window.clone())).is_some_and(|n| n >= limit) {
                return Err(AppError::TooManyRequests { retry_after: crate::domain::seconds_until(*ends, at) });
            }
        }
        for (window, _, _) in windows {
            *counts.entry((message.sender_id.clone(), window)).or_default() += 1;
        }
        lock(&self.messages).push(message.clone());
        self.outbox(event);
        Ok(())
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
