//! Review ports (decision 0038): the two reviews of a booking, their blind publication and the
//! ratings they add, exactly once each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::cursor::LastKey;
use crate::domain::booking::{BookingId, Party};
use crate::domain::events::DomainEvent;
use crate::domain::listing::ListingId;
use crate::domain::review::{Review, ReviewId};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::Page;

/// A booking's reviews and the published ones by listing and by member.
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// The reviews of `booking` as stored (none, one or both parties').
    async fn booking_reviews(&self, booking: &BookingId) -> Result<Vec<Review>, AppError>;
    /// Stores the new `review` with `events`, unless its author reviewed already. With `other`
    /// (the other party's review, hidden as stored, given published), that one is published in
    /// the same write; without, the other party's review must not be hidden (absent,
    /// published or removed already). Every review
    /// stored published adds its rating to its subject's totals (and its listing's).
    /// `PreconditionFailed` when another write came first: read again.
    async fn add_review(&self, review: &Review, other: Option<&Review>, events: &[DomainEvent])
        -> Result<(), AppError>;
    /// Publishes `review` (given published) with its ratings and `event` if it is still hidden;
    /// `false`, and nothing written, if it is not.
    async fn publish_review(&self, review: &Review, event: &DomainEvent) -> Result<bool, AppError>;
    /// The review `id`, as stored.
    async fn get_review(&self, id: &ReviewId) -> Result<Option<Review>, AppError>;
    /// Stores `next` (answered, or removed) over `previous` with `event`, if the stored review is
    /// still as read (same status, answered or not); a review leaving `published` takes its
    /// stars back from the totals. `false`, and nothing written, if it changed.
    async fn update_review(&self, previous: &Review, next: &Review, event: &DomainEvent) -> Result<bool, AppError>;
    /// Up to `limit` hidden reviews whose window closed by `now`, oldest first.
    async fn due_reviews(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<(BookingId, Party)>, AppError>;
    /// A page of the published reviews of `listing`, newest first.
    async fn listing_reviews(
        &self,
        listing: &ListingId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Review>, AppError>;
    /// A page of the published reviews of `member` (as owner and as renter), newest first.
    async fn member_reviews(
        &self,
        member: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Review>, AppError>;
}
