//! In-memory fakes of the ports, for unit tests of handlers (never for integration tests,
//! which run against moto). Enabled with the `testing` feature. One file per aggregate, as the
//! DynamoDB adapters are.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use chrono::NaiveDate;

use crate::cursor::LastKey;
use crate::domain::booking::{Booking, BookingId, BookingStatus, DateRange, Party};
use crate::domain::events::DomainEvent;
use crate::domain::listing::{Listing, ListingId, OwnedListingSummary};
use crate::domain::notification::Notification;
use crate::domain::payout_account::PayoutAccount;
use crate::domain::user::{Profile, ProfilePatch, UserId};
use crate::domain::Clock;
use crate::error::AppError;
use crate::identity::Caller;
use crate::ports::{
    BookingLists, BookingReader, BookingWriter, Calendar, Created, Due, DueBookings, EventQueues, IdempotencyKey,
    ListingReader, ListingRenters, ListingWriter, NotificationStore, OwnerListings, Page, ProfileStore, ProfileUpdater,
    Recorded, ViewerIdentity,
};

#[derive(Default)]
pub struct MemoryStore {
    pub profiles: Mutex<HashMap<UserId, Profile>>,
    pub listings: Mutex<HashMap<ListingId, Listing>>,
    pub bookings: Mutex<HashMap<BookingId, Booking>>,
    /// (listing, day) -> holder: `booking:{id}` or `block`.
    pub days: Mutex<HashMap<(ListingId, NaiveDate), String>>,
    pub idempotency: Mutex<HashMap<(String, String), (String, BookingId)>>,
    pub notifications: Mutex<Vec<Notification>>,
    pub photos: Mutex<Vec<crate::domain::photo::Photo>>,
    /// The outbox: events written with their changes, in order.
    pub events: Mutex<Vec<DomainEvent>>,
    pub payouts: Mutex<HashMap<BookingId, crate::domain::payout::Payout>>,
    /// (owner, Stripe payout id) -> the payout as last reported.
    pub owner_payouts: Mutex<HashMap<(UserId, String), crate::domain::payout_account::OwnerPayout>>,
    /// Members' records, counted as rentals complete after a return.
    pub member_stats: Mutex<HashMap<UserId, crate::domain::user::MemberStats>>,
    pub messages: Mutex<Vec<crate::domain::message::Message>>,
    /// (sender, window) -> messages sent in it.
    pub message_counts: Mutex<HashMap<(UserId, String), u32>>,
    /// (member, thread) -> their inbox entry and how far they read.
    pub inbox: Mutex<HashMap<(UserId, crate::domain::message::ThreadId), InboxEntry>>,
    pub inquiries: Mutex<HashMap<crate::domain::inquiry::InquiryId, crate::domain::inquiry::Inquiry>>,
    /// (listing, renter) -> their open inquiry about it.
    pub open_inquiries: Mutex<HashMap<(ListingId, UserId), crate::domain::inquiry::InquiryId>>,
    pub reports: Mutex<Vec<crate::domain::condition::ConditionReport>>,
    /// (booking, author) -> their review.
    pub reviews: Mutex<HashMap<(BookingId, Party), crate::domain::review::Review>>,
    pub listing_ratings: Mutex<HashMap<ListingId, crate::domain::review::RatingTotals>>,
    pub deposits: Mutex<HashMap<BookingId, crate::domain::deposit::Deposit>>,
    /// Renters' Stripe Customers.
    pub customers: Mutex<HashMap<UserId, String>>,
    pub claims: Mutex<HashMap<BookingId, crate::domain::claim::DamageClaim>>,
    pub evidence: Mutex<Vec<crate::domain::evidence::file::EvidenceFile>>,
    pub email_settings: Mutex<HashMap<UserId, crate::domain::email::EmailSettings>>,
    pub suppressions: Mutex<HashMap<crate::domain::email::EmailAddress, crate::domain::email::Suppression>>,
    /// (member, notification) -> its e-mail's outcome, or `sending` with the lease's end.
    pub email_ledger: Mutex<HashMap<(UserId, String), LedgerEntry>>,
    /// (member, thread) -> the last e-mail's time and notification.
    pub email_threads: Mutex<HashMap<(UserId, String), ThreadSlot>>,
}

/// A notification's e-mail: its outcome (or `sending`), when that was recorded (or the lease
/// ends), and the holding delivery's token.
pub type LedgerEntry = (String, DateTime<Utc>, String);
/// A thread's last e-mail: its time and its notification.
pub type ThreadSlot = (DateTime<Utc>, String);

impl MemoryStore {
    fn outbox(&self, event: &DomainEvent) {
        lock(&self.events).push(event.clone());
    }

    /// The kinds of the events written so far, in order.
    pub fn event_kinds(&self) -> Vec<String> {
        lock(&self.events).iter().map(|e| e.kind.clone()).collect()
    }

    /// Stores `listing` as its owner's creation would, for tests that need one.
    pub async fn seed_listing(&self, listing: &Listing) {
        let event = DomainEvent::new(
            crate::domain::events::kinds::LISTING_CREATED,
            format!("listing/{}", listing.id),
            Some(listing.owner_id.to_string()),
            listing.created_at,
            serde_json::json!({}),
        );
        if let Err(e) = ListingWriter::create_listing(self, listing, &event).await {
            panic!("seeding a listing: {e}");
        }
    }

    /// Gives `owner` a profile whose payout account Stripe has verified: they may publish.
    pub fn seed_payout_ready(&self, owner: &UserId) {
        let now = chrono::Utc::now();
        let mut profile = crate::domain::user::Profile::register(owner.clone(), None, None, now);
        profile.payout_account = Some(PayoutAccount {
            id: format!("acct_{owner}"),
            country: crate::domain::country::Country::parse("DE").unwrap_or_else(|| panic!("DE")),
            details_submitted: true,
            charges_enabled: true,
            payouts_enabled: true,
            transfers_active: true,
            currently_due: Vec::new(),
            past_due: Vec::new(),
            disabled_reason: None,
            reported_at: now,
        });
        lock(&self.profiles).insert(owner.clone(), profile);
    }

    /// Stores `booking` (and holds its days) as a renter's request would.
    pub async fn seed_booking(&self, booking: &Booking) {
        let event =
            crate::bookings::event(crate::domain::events::kinds::BOOKING_REQUESTED, booking, None, booking.created_at);
        if let Err(e) = BookingWriter::create_booking(self, booking, None, &event).await {
            panic!("seeding a booking: {e}");
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

mod bookings;
mod messages;
pub use bookings::{confirmed_booking, returned_booking};
pub use messages::{inquiry_of, InboxEntry};
// The port contract every store keeps, shared with the DynamoDB integration test.
mod calendar;
mod claims;
pub mod contract;
mod deposits;
mod email;
mod listings;
mod notifications;
mod payments;
mod payouts;
mod photos;
mod profiles;
mod reports;
mod reviews;
mod search;
pub use search::{InspectIndex, MemoryIndex};

pub use claims::{caller, claimable, FakeEvidence};
pub use email::FakeMailer;
pub use payments::FakeGateway;

/// Event queues that keep what they were sent, per route; `refuse_from` makes every send of
/// the event at that position (and after) fail, as a queue that is down would.
#[derive(Default)]
pub struct MemoryQueues {
    pub sent: Mutex<Vec<(crate::domain::events::Route, DomainEvent)>>,
    pub refuse: Mutex<Option<uuid::Uuid>>,
}

#[async_trait]
impl EventQueues for MemoryQueues {
    async fn send(&self, route: crate::domain::events::Route, events: &[&DomainEvent]) -> Result<usize, AppError> {
        let refuse = *lock(&self.refuse);
        let mut sent = lock(&self.sent);
        for (i, e) in events.iter().enumerate() {
            if Some(e.id) == refuse {
                return if i == 0 { Err(AppError::internal("queue unreachable")) } else { Ok(i) };
            }
            sent.push((route, (*e).clone()));
        }
        Ok(events.len())
    }
}

/// A clock stuck at a given instant.
pub struct FixedClock(pub DateTime<Utc>);

impl Default for FixedClock {
    fn default() -> Self {
        FixedClock(Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).single().unwrap_or_default())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Pages of `sorted` after the item whose key is `start` (keys are `{"SK": sort key}`).
fn page_of<T: Clone>(sorted: Vec<(String, T)>, limit: u32, start: Option<LastKey>) -> Page<T> {
    let after = start.and_then(|k| k.get("SK").cloned());
    let rest: Vec<(String, T)> = sorted
        .into_iter()
        .skip_while(|(k, _)| after.as_ref().is_some_and(|a| k != a))
        .skip(usize::from(after.is_some()))
        .collect();
    let more = rest.len() > limit as usize;
    let items: Vec<(String, T)> = rest.into_iter().take(limit as usize).collect();
    let last_key = if more { items.last().map(|(k, _)| LastKey::from([("SK".to_owned(), k.clone())])) } else { None };
    Page {
        items_read: items.len() as i32,
        bytes_read: 0,
        items: items.into_iter().map(|(_, v)| v).collect(),
        last_key,
        capacity_units: 0.0,
    }
}

/// A viewer identity that trusts `Bearer {user_id}` (unit tests only) and refuses `Bearer bad`.
#[derive(Default)]
pub struct TrustingViewer;

#[async_trait]
impl ViewerIdentity for TrustingViewer {
    async fn viewer(&self, authorization: Option<&str>) -> Result<Option<Caller>, AppError> {
        let Some(raw) = authorization else { return Ok(None) };
        let sub = raw.strip_prefix("Bearer ").unwrap_or(raw);
        if sub == "bad" {
            return Err(AppError::Unauthorized);
        }
        Ok(Some(Caller {
            user_id: UserId::parse(sub)?,
            groups: Vec::new(),
            email: None,
            email_verified: false,
            name: None,
        }))
    }
}
