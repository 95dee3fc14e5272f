//! Message ports: a thread (a booking's, or an inquiry's), its parties' inboxes and read
//! receipts (decisions 0037, 0041).

use async_trait::async_trait;

use crate::cursor::LastKey;
use crate::domain::events::DomainEvent;
use crate::domain::inquiry::{Inquiry, InquiryId};
use crate::domain::listing::ListingId;
use crate::domain::message::{Delivery, Message, MessageId, SendLimits, ThreadId, ThreadSummary};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::Page;

/// A thread's messages and its parties' inboxes (decision 0037).
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores the delivery's message with `event` (the outbox), moves both parties' inbox entries
    /// (the recipient's unread count up), and counts it against its sender's `limits`: at a
    /// limit, `TooManyRequests` until the window ends, and nothing is stored. A delivery that
    /// `opens` an inquiry stores it too, as its renter's open one about the listing: when they
    /// have one already, `Conflict("inquiry_open")`, and nothing is stored.
    async fn post_message(
        &self,
        delivery: Delivery<'_>,
        event: &DomainEvent,
        limits: SendLimits,
    ) -> Result<(), AppError>;
    /// A page of `thread`'s messages, newest first.
    async fn messages(&self, thread: &ThreadId, limit: u32, start: Option<LastKey>) -> Result<Page<Message>, AppError>;
    /// `reader` has read `thread` up to `up_to` (a message of it): their unread count
    /// becomes what came from the other party after it. Never moves back. Returns the unread count.
    /// `NotFound("message")` when `up_to` is not in the thread, and the same when `reader` has no
    /// inbox entry for it (is not one of its parties): a stranger learns nothing of the thread.
    async fn mark_thread_read(&self, thread: &ThreadId, reader: &UserId, up_to: &MessageId) -> Result<u64, AppError>;
    /// The newest message of `thread` that `reader` has marked read, if any.
    async fn read_up_to(&self, thread: &ThreadId, reader: &UserId) -> Result<Option<MessageId>, AppError>;
    /// A page of `user`'s threads, most recently active first.
    async fn threads_of(
        &self,
        user: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<ThreadSummary>, AppError>;
}

/// Inquiries before a booking (decision 0041); opened by their first message
/// (`MessageStore::post_message`), adopted by a booking (`BookingWriter::create_booking`).
#[async_trait]
pub trait InquiryStore: Send + Sync {
    /// Inquiry `id`, if it exists.
    async fn inquiry(&self, id: &InquiryId) -> Result<Option<Inquiry>, AppError>;
    /// `renter`'s open inquiry about `listing`: none, or none since a booking adopted it.
    async fn open_inquiry(&self, listing: &ListingId, renter: &UserId) -> Result<Option<Inquiry>, AppError>;
}
