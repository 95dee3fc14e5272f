//! Message ports: a booking's thread, its parties' inboxes and read receipts (decision 0037).

use async_trait::async_trait;

use crate::cursor::LastKey;
use crate::domain::booking::BookingId;
use crate::domain::events::DomainEvent;
use crate::domain::message::{Delivery, Message, MessageId, SendLimits, ThreadSummary};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::Page;

/// A booking's messages and its parties' inboxes (decision 0037).
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores the delivery's message with `event` (the outbox), moves both parties' inbox entries
    /// (the recipient's unread count up), and counts it against its sender's `limits`: at a
    /// limit, `TooManyRequests` until the window ends, and nothing is stored.
    async fn post_message(
        &self,
        delivery: Delivery<'_>,
        event: &DomainEvent,
        limits: SendLimits,
    ) -> Result<(), AppError>;
    /// A page of `booking`'s messages, newest first.
    async fn messages(
        &self,
        booking: &BookingId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Message>, AppError>;
    /// `reader` has read `booking`'s thread up to `up_to` (a message of it): their unread count
    /// becomes what came from the other party after it. Never moves back. Returns the unread count.
    /// `NotFound("message")` when `up_to` is not in the thread, and the same when `reader` has no
    /// inbox entry for it (is not one of its parties): a stranger learns nothing of the thread.
    async fn mark_thread_read(&self, booking: &BookingId, reader: &UserId, up_to: &MessageId) -> Result<u64, AppError>;
    /// The newest message of `booking` that `reader` has marked read, if any.
    async fn read_up_to(&self, booking: &BookingId, reader: &UserId) -> Result<Option<MessageId>, AppError>;
    /// A page of `user`'s threads, most recently active first.
    async fn threads_of(
        &self,
        user: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<ThreadSummary>, AppError>;
}
