//! Ports: one small trait per capability a handler needs. Handlers are generic over these,
//! so a signature says what a function touches and a unit test fakes only that.
//! `adapters` holds the one AWS implementation of each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::cursor::LastKey;
use crate::domain::events::DomainEvent;
use crate::domain::listing::{Listing, ListingId, OwnedListingSummary};
use crate::domain::user::{Profile, ProfilePatch, UserId};
use crate::error::AppError;

mod claims;
mod deposits;
mod email;
mod messages;
mod payouts;
mod reports;
mod reviews;
mod search;
pub use claims::*;
pub use deposits::*;
pub use email::*;
pub use messages::*;
pub use payouts::*;
pub use reports::*;
pub use reviews::*;
pub use search::*;

#[async_trait]
pub trait ProfileStore: Send + Sync {
    async fn get_profile(&self, id: &UserId) -> Result<Option<Profile>, AppError>;
    /// Stores `profile` and, with it, `registered` (the outbox: the same transaction), unless a
    /// profile exists for its user. Returns the stored profile and whether this call created it.
    async fn create_profile_if_absent(
        &self,
        profile: &Profile,
        registered: &DomainEvent,
    ) -> Result<(Profile, bool), AppError>;
}

/// What anyone may see of a member (`GET /users/{id}`).
#[async_trait]
pub trait MemberRecords: Send + Sync {
    /// `id`'s profile with their completed-rental counts, in one read; `None` without a profile.
    async fn public_member(&self, id: &UserId)
        -> Result<Option<(Profile, crate::domain::user::MemberStats)>, AppError>;
}

#[async_trait]
pub trait ProfileUpdater: Send + Sync {
    /// Applies `patch` to an existing profile and stores `event` with it; `NotFound` (and no
    /// event) if there is none.
    async fn update_profile(
        &self,
        id: &UserId,
        patch: &ProfilePatch,
        now: DateTime<Utc>,
        event: &DomainEvent,
    ) -> Result<Profile, AppError>;
}

/// The outbox as stored, which is the audit trail (decision 0039): what the contract checks
/// against every store (and an operator reads when replaying). Delivery is the stream's job.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// The events written for `subject` (e.g. `booking/{id}`), oldest first.
    async fn events_of(&self, subject: &str) -> Result<Vec<DomainEvent>, AppError>;
}

/// Where `publish-events` delivers the table's outbox events: FIFO queues, one message group
/// per subject, deduplicated by event id.
#[async_trait]
pub trait EventQueues: Send + Sync {
    /// Sends `events` (in order) to `route`'s queue. Returns how many of them, from the first,
    /// were accepted: fewer than all means the rest must be retried.
    async fn send(&self, route: crate::domain::events::Route, events: &[&DomainEvent]) -> Result<usize, AppError>;
}

/// Whether a write was new or a repeat of one already applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

/// A dependency the health endpoint checks.
#[async_trait]
pub trait HealthProbe: Send + Sync {
    /// Stable short name reported to callers: `dynamodb`, `s3`, `sqs`, `secretsmanager`.
    fn name(&self) -> &'static str;
    /// Ok when the dependency answers; Err with a short reason (no secrets) otherwise.
    async fn probe(&self) -> Result<(), String>;
}

/// One page of a query, with what it cost (for the search benchmark and logs).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub last_key: Option<LastKey>,
    pub items_read: i32,
    /// Size of the items read, by DynamoDB's item-size rules: what read capacity is billed on.
    pub bytes_read: usize,
    pub capacity_units: f64,
}

#[async_trait]
pub trait ListingReader: Send + Sync {
    async fn get_listing(&self, id: &ListingId) -> Result<Option<Listing>, AppError>;
}

/// A listing with every photo (by position, then age) and the cover photo's id.
#[derive(Debug, Clone)]
pub struct ListingDetail {
    pub listing: Listing,
    pub photos: Vec<crate::domain::photo::Photo>,
    pub cover: Option<String>,
    /// Its published reviews' stars (decision 0038).
    pub rating: crate::domain::review::RatingTotals,
}

/// The listing page's read: the listing and its photos together (one request where the
/// store keeps them side by side).
#[async_trait]
pub trait ListingDetailReader: Send + Sync {
    async fn listing_detail(&self, id: &ListingId) -> Result<Option<ListingDetail>, AppError>;
}

/// A listing with one part of its photos, read by key: the cost does not grow with the
/// number of photos it has.
#[async_trait]
pub trait ListingPhotoReader: Send + Sync {
    /// The listing and how many photos it has (what adding one needs).
    async fn listing_with_photo_count(&self, id: &ListingId) -> Result<Option<(Listing, u32)>, AppError>;
    /// The listing, its photo `photo` if there is one, and the cover photo's id.
    async fn listing_with_photo(
        &self,
        id: &ListingId,
        photo: &crate::domain::photo::PhotoId,
    ) -> Result<Option<ListingPhoto>, AppError>;
}

/// A listing, one of its photos (if it exists) and the cover photo's id.
#[derive(Debug, Clone)]
pub struct ListingPhoto {
    pub listing: Listing,
    pub photo: Option<crate::domain::photo::Photo>,
    pub cover: Option<String>,
}

#[async_trait]
pub trait ListingWriter: Send + Sync {
    /// Stores a new listing and `event` in one transaction.
    async fn create_listing(&self, listing: &Listing, event: &DomainEvent) -> Result<(), AppError>;
    /// Replaces `previous` with `next` only if nobody changed it since `previous` was read
    /// (else `PreconditionFailed`), storing `event` in the same transaction.
    async fn replace_listing(&self, previous: &Listing, next: &Listing, event: &DomainEvent) -> Result<(), AppError>;
}

#[async_trait]
pub trait OwnerListings: Send + Sync {
    /// An owner's listings in every status, newest first, as the list shows them.
    async fn owner_listings(
        &self,
        owner: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<OwnedListingSummary>, AppError>;
}

/// The key that signs pagination cursors (a secret, so it can be rotated; rotating it only
/// invalidates cursors in flight, which then answer 400 `invalid_cursor`).
#[async_trait]
pub trait CursorKeys: Send + Sync {
    async fn cursor_key(&self) -> Result<crate::cursor::CursorKey, AppError>;
}

/// Who is calling a public route, when they sent a token (API Gateway checks tokens only on
/// protected routes). `Ok(None)` without a token; 401 for a token that does not verify.
#[async_trait]
pub trait ViewerIdentity: Send + Sync {
    async fn viewer(&self, authorization: Option<&str>) -> Result<Option<crate::identity::Caller>, AppError>;
}

/// A client's `Idempotency-Key` for creating a booking, scoped to the caller, with what the
/// request asked for (a key reused for a different request is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    pub fingerprint: String,
}

/// Whether a create stored something new or found the earlier result of the same request.
#[derive(Debug, Clone, PartialEq)]
pub enum Created<T> {
    New,
    Replayed(T),
}

#[async_trait]
pub trait BookingReader: Send + Sync {
    async fn get_booking(
        &self,
        id: &crate::domain::booking::BookingId,
    ) -> Result<Option<crate::domain::booking::Booking>, AppError>;
}

#[async_trait]
pub trait ListingRenters: Send + Sync {
    /// Whether `user` ever booked `listing` (past renters may still read it once archived).
    async fn has_booked(&self, listing: &ListingId, user: &UserId) -> Result<bool, AppError>;
}

#[async_trait]
pub trait BookingWriter: Send + Sync {
    /// Stores `booking` together with one hold per day and `event`, in one transaction: 409
    /// `dates_unavailable` if any day is already held or blocked. With an idempotency key a
    /// repeat of the same request returns the booking the first one stored (and stores nothing).
    async fn create_booking(
        &self,
        booking: &crate::domain::booking::Booking,
        idempotency: Option<&IdempotencyKey>,
        event: &DomainEvent,
    ) -> Result<Created<crate::domain::booking::Booking>, AppError>;
    /// Replaces `previous` with `next` only if its status and version are still `previous`'s
    /// (else `PreconditionFailed`: someone else moved it). Releases the days when `next` no
    /// longer holds them, and stores `event` (a move's announcement), in the same transaction.
    async fn move_booking(
        &self,
        previous: &crate::domain::booking::Booking,
        next: &crate::domain::booking::Booking,
        event: Option<&DomainEvent>,
    ) -> Result<(), AppError>;
}

/// Days a listing cannot be booked for.
#[async_trait]
pub trait Calendar: Send + Sync {
    /// Held (by bookings) and blocked (by the owner) days within `window`.
    async fn unavailable_days(
        &self,
        listing: &ListingId,
        window: &crate::domain::booking::DateRange,
    ) -> Result<Vec<chrono::NaiveDate>, AppError>;
    /// Blocks every day of `range` (already blocked days stay blocked); 409
    /// `dates_unavailable` if a booking holds any of them, and then nothing is blocked.
    async fn block_days(&self, listing: &ListingId, range: &crate::domain::booking::DateRange) -> Result<(), AppError>;
    /// Unblocks the owner's blocks in `range`; days held by bookings are left alone.
    async fn unblock_days(
        &self,
        listing: &ListingId,
        range: &crate::domain::booking::DateRange,
    ) -> Result<(), AppError>;
}

#[async_trait]
pub trait BookingLists: Send + Sync {
    /// A user's bookings as renter or as owner, newest first, optionally of one status.
    async fn bookings_of(
        &self,
        party: crate::domain::booking::Party,
        user: &UserId,
        status: Option<crate::domain::booking::BookingStatus>,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<crate::domain::booking::Booking>, AppError>;
}

/// What a scheduled task looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Holds (`requested`, `pending_payment`) whose deadline has passed.
    HoldExpiry,
    /// `confirmed` bookings whose end date has passed (nobody recorded a pickup).
    Completion,
    /// Items out (`in_progress`) `grace` past their end, not flagged yet.
    ReturnOverdue { grace: chrono::Duration },
    /// `returned` bookings whose claim window has closed.
    Settlement { claim_window: chrono::Duration },
}

#[async_trait]
pub trait DueBookings: Send + Sync {
    /// Up to `limit` bookings due for `what` at `now`, oldest deadline first.
    async fn due(
        &self,
        what: Due,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<crate::domain::booking::BookingId>, AppError>;
}

#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Stores `n` unless one with its id exists for its user (duplicate events are no-ops).
    async fn put_notification(&self, n: &crate::domain::notification::Notification) -> Result<Recorded, AppError>;
    async fn notifications_of(
        &self,
        user: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<crate::domain::notification::Notification>, AppError>;
    /// Marks one of `user`'s notifications read; `NotFound` if they have no such notification.
    async fn mark_read(
        &self,
        user: &UserId,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<crate::domain::notification::Notification, AppError>;
}

/// A Stripe PaymentIntent, as much of it as we use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentIntent {
    pub id: String,
    pub client_secret: String,
    pub amount: i64,
    /// Upper case, as our domain writes currencies.
    pub currency: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: String,
}

/// Stripe, behind the few calls we make. Every write carries an idempotency key, so a retry
/// never charges or refunds twice.
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// The rental payment of `booking` by `customer`, whose card is saved for the deposit hold.
    async fn create_intent(
        &self,
        booking: &crate::domain::booking::Booking,
        customer: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, AppError>;
    async fn get_intent(&self, id: &str) -> Result<PaymentIntent, AppError>;
    async fn refund(
        &self,
        intent_id: &str,
        amount: i64,
        booking_id: &str,
        idempotency_key: &str,
    ) -> Result<Refund, AppError>;
    /// What the browser needs to confirm the payment with Stripe.js.
    async fn publishable_key(&self) -> Result<String, AppError>;
}

/// The webhook signing secrets: the current one and, during rotation, the previous one.
#[async_trait]
pub trait WebhookSecrets: Send + Sync {
    async fn webhook_secrets(&self) -> Result<Vec<String>, AppError>;
}

/// Stripe event ids already accepted (kept 30+ days, longer than Stripe retries).
#[async_trait]
pub trait WebhookInbox: Send + Sync {
    async fn record_event(&self, event_id: &str, now: DateTime<Utc>) -> Result<Recorded, AppError>;
    /// Undoes `record_event` when the event could not be queued, so Stripe's retry is taken.
    async fn forget_event(&self, event_id: &str) -> Result<(), AppError>;
}

/// The FIFO queue between the webhook and the payment worker.
#[async_trait]
pub trait PaymentEventQueue: Send + Sync {
    async fn enqueue(&self, group: &str, deduplication_id: &str, body: &str) -> Result<(), AppError>;
}

/// Which booking a PaymentIntent pays (charges and disputes name the intent, not the booking).
#[async_trait]
pub trait IntentIndex: Send + Sync {
    async fn link_intent(&self, intent_id: &str, booking: &crate::domain::booking::BookingId) -> Result<(), AppError>;
    async fn booking_for_intent(&self, intent_id: &str) -> Result<Option<crate::domain::booking::BookingId>, AppError>;
}

/// Photos of a listing, in DynamoDB.
#[async_trait]
pub trait PhotoStore: Send + Sync {
    /// Stores a pending photo unless the listing already has `max` (409 `too_many_photos`).
    async fn add_photo(&self, photo: &crate::domain::photo::Photo, max: u32) -> Result<(), AppError>;
    async fn get_photo(
        &self,
        listing: &ListingId,
        id: &crate::domain::photo::PhotoId,
    ) -> Result<Option<crate::domain::photo::Photo>, AppError>;
    /// Every photo of the listing, by position then age; and the cover's id.
    async fn photos_of(
        &self,
        listing: &ListingId,
    ) -> Result<(Vec<crate::domain::photo::Photo>, Option<String>), AppError>;
    /// Removes the record (and its place in the count); `false` if it was already gone.
    async fn remove_photo(&self, listing: &ListingId, id: &crate::domain::photo::PhotoId) -> Result<bool, AppError>;
    async fn set_position(
        &self,
        listing: &ListingId,
        id: &crate::domain::photo::PhotoId,
        position: u32,
        now: DateTime<Utc>,
    ) -> Result<(), AppError>;
    /// Makes `id` the cover, or clears the cover if it is `id` and `cover` is false.
    async fn set_cover(
        &self,
        listing: &ListingId,
        id: &crate::domain::photo::PhotoId,
        cover: bool,
    ) -> Result<(), AppError>;
    /// `pending_upload` -> `ready` or `rejected`, only from `pending_upload`: a duplicate or
    /// late event never moves a finished photo. `Duplicate` when it was not pending (or gone).
    async fn finish_photo(&self, finished: &crate::domain::photo::Photo) -> Result<Recorded, AppError>;
}

/// A presigned browser upload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PresignedUpload {
    pub url: String,
    pub method: &'static str,
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait UploadUrls: Send + Sync {
    /// A PUT URL for `key` that only accepts exactly `content_type` and `size_bytes`.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size_bytes: u64,
        valid_for: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<PresignedUpload, AppError>;
}

/// The objects behind photos.
#[async_trait]
pub trait PhotoObjects: Send + Sync {
    /// The original's bytes, refusing to read past `cap` (`Ok(None)` if it is gone; `Err(too_large)`
    /// is reported as the size being over `cap` via `Some(Err(size))`).
    async fn read_original(&self, key: &str, cap: usize) -> Result<Option<Result<Vec<u8>, u64>>, AppError>;
    async fn put_rendition(&self, key: &str, webp: Vec<u8>) -> Result<(), AppError>;
    async fn delete_objects(&self, originals: &[String], renditions: &[String]) -> Result<(), AppError>;
}
