//! In-memory fakes of the ports, for unit tests of handlers (never for integration tests,
//! which run against moto). Enabled with the `testing` feature.

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
use crate::domain::search::{entry_keys, IndexQuery, ListingSummary};
use crate::domain::user::{Profile, ProfilePatch, UserId};
use crate::domain::Clock;
use crate::error::AppError;
use crate::identity::Caller;
use crate::ports::{
    AuditLog, BookingLists, BookingReader, BookingWriter, Calendar, Created, Due, DueBookings, EventPublisher,
    IdempotencyKey, ListingReader, ListingRenters, ListingSearch, ListingWriter, NotificationStore, OwnerListings,
    Page, ProfileStore, ProfileUpdater, Recorded, ViewerIdentity,
};

#[derive(Default)]
pub struct MemoryStore {
    pub profiles: Mutex<HashMap<UserId, Profile>>,
    pub audit: Mutex<HashMap<uuid::Uuid, DomainEvent>>,
    pub listings: Mutex<HashMap<ListingId, Listing>>,
    pub bookings: Mutex<HashMap<BookingId, Booking>>,
    /// (listing, day) -> holder: `booking:{id}` or `block`.
    pub days: Mutex<HashMap<(ListingId, NaiveDate), String>>,
    pub idempotency: Mutex<HashMap<(String, String), (String, BookingId)>>,
    pub notifications: Mutex<Vec<Notification>>,
    pub photos: Mutex<Vec<crate::domain::photo::Photo>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl ProfileStore for MemoryStore {
    async fn get_profile(&self, id: &UserId) -> Result<Option<Profile>, AppError> {
        Ok(lock(&self.profiles).get(id).cloned())
    }
    async fn create_profile_if_absent(&self, profile: &Profile) -> Result<(Profile, bool), AppError> {
        let mut profiles = lock(&self.profiles);
        if let Some(existing) = profiles.get(&profile.user_id) {
            return Ok((existing.clone(), false));
        }
        profiles.insert(profile.user_id.clone(), profile.clone());
        Ok((profile.clone(), true))
    }
}

#[async_trait]
impl ProfileUpdater for MemoryStore {
    async fn update_profile(&self, id: &UserId, patch: &ProfilePatch, now: DateTime<Utc>) -> Result<Profile, AppError> {
        let mut profiles = lock(&self.profiles);
        let p = profiles.get_mut(id).ok_or(AppError::NotFound("profile"))?;
        if let Some(name) = &patch.display_name {
            p.display_name = name.clone();
        }
        if let Some(phone) = &patch.phone {
            p.phone = phone.clone();
        }
        p.updated_at = now;
        p.version += 1;
        Ok(p.clone())
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record(&self, event: &DomainEvent) -> Result<Recorded, AppError> {
        let mut audit = lock(&self.audit);
        if audit.contains_key(&event.id) {
            return Ok(Recorded::Duplicate);
        }
        audit.insert(event.id, event.clone());
        Ok(Recorded::New)
    }
}

#[derive(Default)]
pub struct RecordingPublisher {
    pub events: Mutex<Vec<DomainEvent>>,
}

impl RecordingPublisher {
    pub fn kinds(&self) -> Vec<String> {
        lock(&self.events).iter().map(|e| e.kind.clone()).collect()
    }
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, event: &DomainEvent) -> Result<(), AppError> {
        lock(&self.events).push(event.clone());
        Ok(())
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

#[async_trait]
impl ListingReader for MemoryStore {
    async fn get_listing(&self, id: &ListingId) -> Result<Option<Listing>, AppError> {
        Ok(lock(&self.listings).get(id).cloned())
    }
}

#[async_trait]
impl crate::ports::ListingDetailReader for MemoryStore {
    async fn listing_detail(&self, id: &ListingId) -> Result<Option<crate::ports::ListingDetail>, AppError> {
        let Some(listing) = self.get_listing(id).await? else { return Ok(None) };
        let (photos, cover) = crate::ports::PhotoStore::photos_of(self, id).await?;
        Ok(Some(crate::ports::ListingDetail { listing, photos, cover }))
    }
}

#[async_trait]
impl crate::ports::ListingPhotoReader for MemoryStore {
    async fn listing_with_photo_count(&self, id: &ListingId) -> Result<Option<(Listing, u32)>, AppError> {
        let Some(listing) = self.get_listing(id).await? else { return Ok(None) };
        let count = lock(&self.photos).iter().filter(|p| &p.listing_id == id).count();
        Ok(Some((listing, u32::try_from(count).map_err(AppError::internal)?)))
    }
    async fn listing_with_photo(
        &self,
        id: &ListingId,
        photo: &crate::domain::photo::PhotoId,
    ) -> Result<Option<crate::ports::ListingPhoto>, AppError> {
        let Some(crate::ports::ListingDetail { listing, photos, cover }) =
            crate::ports::ListingDetailReader::listing_detail(self, id).await?
        else {
            return Ok(None);
        };
        Ok(Some(crate::ports::ListingPhoto { listing, photo: photos.into_iter().find(|p| &p.id == photo), cover }))
    }
}

#[async_trait]
impl ListingWriter for MemoryStore {
    async fn create_listing(&self, listing: &Listing) -> Result<(), AppError> {
        lock(&self.listings).insert(listing.id.clone(), listing.clone());
        Ok(())
    }
    async fn replace_listing(&self, previous: &Listing, next: &Listing) -> Result<(), AppError> {
        let mut listings = lock(&self.listings);
        match listings.get(&previous.id) {
            Some(current) if current.version == previous.version => {
                listings.insert(next.id.clone(), next.clone());
                Ok(())
            }
            _ => Err(AppError::PreconditionFailed),
        }
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

#[async_trait]
impl ListingSearch for MemoryStore {
    async fn search(
        &self,
        query: &IndexQuery,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<ListingSummary>, AppError> {
        let listings = lock(&self.listings);
        let mut hits: Vec<(String, ListingSummary)> = listings
            .values()
            .flat_map(|l| entry_keys(l).into_iter().map(move |(pk, sk)| (pk, sk, l)))
            .filter(|(pk, sk, _)| {
                *pk == query.partition && query.range.as_ref().is_none_or(|(lo, hi)| sk >= lo && sk <= hi)
            })
            .map(|(_, sk, l)| (sk, ListingSummary::from(l)))
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0));
        if !query.ascending {
            hits.reverse();
        }
        Ok(page_of(hits, limit, start))
    }
}

#[async_trait]
impl OwnerListings for MemoryStore {
    async fn owner_listings(
        &self,
        owner: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<OwnedListingSummary>, AppError> {
        let mut mine: Vec<(String, OwnedListingSummary)> = lock(&self.listings)
            .values()
            .filter(|l| &l.owner_id == owner)
            .map(|l| (format!("{:013}#{}", l.created_at.timestamp_millis(), l.id), l.into()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
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
        Ok(Some(Caller { user_id: UserId::parse(sub)?, groups: Vec::new(), email: None, name: None }))
    }
}

#[async_trait]
impl BookingReader for MemoryStore {
    async fn get_booking(&self, id: &BookingId) -> Result<Option<Booking>, AppError> {
        Ok(lock(&self.bookings).get(id).cloned())
    }
}

#[async_trait]
impl BookingWriter for MemoryStore {
    async fn create_booking(
        &self,
        booking: &Booking,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Created<Booking>, AppError> {
        let mut idem = lock(&self.idempotency);
        if let Some(k) = idempotency {
            if let Some((fingerprint, id)) = idem.get(&(k.scope.clone(), k.key.clone())) {
                if *fingerprint != k.fingerprint {
                    return Err(AppError::conflict("idempotency_key_reused", "reused"));
                }
                return Ok(Created::Replayed(lock(&self.bookings)[id].clone()));
            }
        }
        let mut days = lock(&self.days);
        if booking.range().each_day().any(|d| days.contains_key(&(booking.listing_id.clone(), d))) {
            return Err(AppError::conflict("dates_unavailable", "taken"));
        }
        for d in booking.range().each_day() {
            days.insert((booking.listing_id.clone(), d), format!("booking:{}", booking.id));
        }
        if let Some(k) = idempotency {
            idem.insert((k.scope.clone(), k.key.clone()), (k.fingerprint.clone(), booking.id.clone()));
        }
        lock(&self.bookings).insert(booking.id.clone(), booking.clone());
        Ok(Created::New)
    }

    async fn move_booking(&self, previous: &Booking, next: &Booking) -> Result<(), AppError> {
        let mut bookings = lock(&self.bookings);
        match bookings.get(&previous.id) {
            Some(b) if b.status == previous.status && b.version == previous.version => {}
            _ => return Err(AppError::PreconditionFailed),
        }
        if previous.status.holds_dates() && !next.status.holds_dates() {
            let mut days = lock(&self.days);
            for d in previous.range().each_day() {
                days.remove(&(previous.listing_id.clone(), d));
            }
        }
        bookings.insert(next.id.clone(), next.clone());
        Ok(())
    }
}

#[async_trait]
impl Calendar for MemoryStore {
    async fn unavailable_days(&self, listing: &ListingId, window: &DateRange) -> Result<Vec<NaiveDate>, AppError> {
        Ok(window.each_day().filter(|d| lock(&self.days).contains_key(&(listing.clone(), *d))).collect())
    }
    async fn block_days(&self, listing: &ListingId, range: &DateRange) -> Result<(), AppError> {
        let mut days = lock(&self.days);
        if range.each_day().any(|d| days.get(&(listing.clone(), d)).is_some_and(|h| h != "block")) {
            return Err(AppError::conflict("dates_unavailable", "taken"));
        }
        for d in range.each_day() {
            days.insert((listing.clone(), d), "block".into());
        }
        Ok(())
    }
    async fn unblock_days(&self, listing: &ListingId, range: &DateRange) -> Result<(), AppError> {
        let mut days = lock(&self.days);
        for d in range.each_day() {
            if days.get(&(listing.clone(), d)).is_some_and(|h| h == "block") {
                days.remove(&(listing.clone(), d));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl BookingLists for MemoryStore {
    async fn bookings_of(
        &self,
        party: Party,
        user: &UserId,
        status: Option<BookingStatus>,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Booking>, AppError> {
        let mut mine: Vec<(String, Booking)> = lock(&self.bookings)
            .values()
            .filter(|b| match party {
                Party::Renter => &b.renter_id == user,
                Party::Owner => &b.owner_id == user,
            })
            .filter(|b| status.is_none_or(|s| b.status == s))
            .map(|b| (format!("{:013}#{}", b.created_at.timestamp_millis(), b.id), b.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }
}

#[async_trait]
impl DueBookings for MemoryStore {
    async fn due(&self, what: Due, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        let mut due: Vec<&Booking> = Vec::new();
        let bookings = lock(&self.bookings);
        for b in bookings.values() {
            let is_due = match what {
                Due::HoldExpiry => {
                    matches!(b.status, BookingStatus::Requested | BookingStatus::PendingPayment) && b.hold_lapsed(now)
                }
                Due::Completion => b.status == BookingStatus::Confirmed && b.end_date <= now.date_naive(),
            };
            if is_due {
                due.push(b);
            }
        }
        Ok(due.into_iter().take(limit as usize).map(|b| b.id.clone()).collect())
    }
}

#[async_trait]
impl NotificationStore for MemoryStore {
    async fn put_notification(&self, n: &Notification) -> Result<Recorded, AppError> {
        let mut all = lock(&self.notifications);
        if all.iter().any(|x| x.id == n.id && x.user_id == n.user_id) {
            return Ok(Recorded::Duplicate);
        }
        all.push(n.clone());
        Ok(Recorded::New)
    }
    async fn notifications_of(
        &self,
        user: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Notification>, AppError> {
        let mut mine: Vec<(String, Notification)> = lock(&self.notifications)
            .iter()
            .filter(|n| &n.user_id == user)
            .map(|n| (n.id.clone(), n.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }
    async fn mark_read(&self, user: &UserId, id: &str, now: DateTime<Utc>) -> Result<Notification, AppError> {
        let mut all = lock(&self.notifications);
        let n = all.iter_mut().find(|n| &n.user_id == user && n.id == id).ok_or(AppError::NotFound("notification"))?;
        n.read = true;
        n.read_at.get_or_insert(now);
        Ok(n.clone())
    }
}

#[async_trait]
impl ListingRenters for MemoryStore {
    async fn has_booked(&self, listing: &ListingId, user: &UserId) -> Result<bool, AppError> {
        Ok(lock(&self.bookings).values().any(|b| &b.listing_id == listing && &b.renter_id == user))
    }
}

/// A Stripe stand-in for unit tests: intents and refunds in memory.
#[derive(Default)]
pub struct FakeGateway {
    pub intents: Mutex<Vec<crate::ports::PaymentIntent>>,
    /// (intent, amount, idempotency key)
    pub refunds: Mutex<Vec<(String, i64, String)>>,
}

#[async_trait]
impl crate::ports::PaymentGateway for FakeGateway {
    async fn create_intent(&self, booking: &Booking, _key: &str) -> Result<crate::ports::PaymentIntent, AppError> {
        let mut intents = lock(&self.intents);
        let intent = crate::ports::PaymentIntent {
            id: format!("pi_{}", intents.len() + 1),
            client_secret: format!("pi_{}_secret_x", intents.len() + 1),
            amount: booking.quote.total,
            currency: booking.quote.currency.code().to_owned(),
            status: "requires_payment_method".into(),
        };
        intents.push(intent.clone());
        Ok(intent)
    }
    async fn get_intent(&self, id: &str) -> Result<crate::ports::PaymentIntent, AppError> {
        lock(&self.intents).iter().find(|i| i.id == id).cloned().ok_or(AppError::NotFound("payment intent"))
    }
    async fn refund(
        &self,
        intent_id: &str,
        amount: i64,
        _booking: &str,
        key: &str,
    ) -> Result<crate::ports::Refund, AppError> {
        let mut refunds = lock(&self.refunds);
        if !refunds.iter().any(|(_, _, k)| k == key) {
            refunds.push((intent_id.to_owned(), amount, key.to_owned()));
        }
        Ok(crate::ports::Refund { id: format!("re_{}", refunds.len()), amount, status: "succeeded".into() })
    }
    async fn publishable_key(&self) -> Result<String, AppError> {
        Ok("pk_test_fake".into())
    }
}

#[async_trait]
impl crate::ports::IntentIndex for MemoryStore {
    async fn link_intent(&self, _intent_id: &str, _booking: &BookingId) -> Result<(), AppError> {
        Ok(())
    }
    async fn booking_for_intent(&self, intent_id: &str) -> Result<Option<BookingId>, AppError> {
        Ok(lock(&self.bookings)
            .values()
            .find(|b| b.payment.intent_id.as_deref() == Some(intent_id))
            .map(|b| b.id.clone()))
    }
}

#[async_trait]
impl crate::ports::PhotoStore for MemoryStore {
    async fn add_photo(&self, photo: &crate::domain::photo::Photo, max: u32) -> Result<(), AppError> {
        let mut photos = lock(&self.photos);
        if photos.iter().filter(|p| p.listing_id == photo.listing_id).count() >= max as usize {
            return Err(AppError::conflict("too_many_photos", "full"));
        }
        photos.push(photo.clone());
        Ok(())
    }
    async fn get_photo(
        &self,
        listing: &ListingId,
        id: &crate::domain::photo::PhotoId,
    ) -> Result<Option<crate::domain::photo::Photo>, AppError> {
        Ok(lock(&self.photos).iter().find(|p| &p.listing_id == listing && &p.id == id).cloned())
    }
    async fn photos_of(
        &self,
        listing: &ListingId,
    ) -> Result<(Vec<crate::domain::photo::Photo>, Option<String>), AppError> {
        let mut mine: Vec<_> = lock(&self.photos).iter().filter(|p| &p.listing_id == listing).cloned().collect();
        mine.sort_by_key(|p| (p.position, p.created_at));
        Ok((mine, None))
    }
    async fn remove_photo(&self, listing: &ListingId, id: &crate::domain::photo::PhotoId) -> Result<bool, AppError> {
        let mut photos = lock(&self.photos);
        let before = photos.len();
        photos.retain(|p| !(&p.listing_id == listing && &p.id == id));
        Ok(photos.len() < before)
    }
    async fn set_position(
        &self,
        listing: &ListingId,
        id: &crate::domain::photo::PhotoId,
        position: u32,
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let mut photos = lock(&self.photos);
        let p =
            photos.iter_mut().find(|p| &p.listing_id == listing && &p.id == id).ok_or(AppError::NotFound("photo"))?;
        p.position = position;
        Ok(())
    }
    async fn set_cover(
        &self,
        _listing: &ListingId,
        _id: &crate::domain::photo::PhotoId,
        _cover: bool,
    ) -> Result<(), AppError> {
        Ok(())
    }
    async fn finish_photo(&self, finished: &crate::domain::photo::Photo) -> Result<Recorded, AppError> {
        let mut photos = lock(&self.photos);
        match photos.iter_mut().find(|p| p.id == finished.id) {
            Some(p) if p.status == crate::domain::photo::PhotoStatus::PendingUpload => {
                *p = finished.clone();
                Ok(Recorded::New)
            }
            _ => Ok(Recorded::Duplicate),
        }
    }
}
