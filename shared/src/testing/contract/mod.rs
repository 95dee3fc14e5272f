//! The port contract: what every store must do, whatever it is made of. The same functions run
//! against `MemoryStore` (a unit test below) and the DynamoDB adapter on moto (`tests/contract.rs`),
//! so the fakes the handlers' unit tests use cannot drift from the real adapter. Every check
//! makes its own users and listings, so it runs on a shared table in parallel with anything.
//! The money ports' part is in `payouts`.

mod claims;
mod deposits;
mod email;
mod messages;
mod payouts;
mod reports;
mod reviews;
mod search;
mod stays;
pub use search::search_index;

use chrono::{Duration, NaiveDate, SubsecRound, Utc};

use crate::domain::booking::{Booking, BookingStatus, DateRange, Party, Transition};
use crate::domain::events::DomainEvent;
use crate::domain::listing::{Listing, ListingId};
use crate::domain::notification::Notification;
use crate::domain::user::{Profile, UserId};
use crate::error::AppError;
use crate::ports::{
    BookingLists, BookingReader, BookingWriter, Calendar, ClaimStore, Created, CustomerStore, DepositStore,
    DueBookings, EvidenceStore, IdempotencyKey, InquiryStore, ListingDetailReader, ListingSnapshots, ListingWriter,
    MemberRecords, MessageStore, NotificationStore, Outbox, OwnerPayouts, PayoutAccountStore, PayoutStore,
    ProfileStore, Recorded, ReportStore, ReviewStore,
};

/// `expect` for a contract: a failure is the rule that broke, as an error the caller reports.
trait Must<T> {
    fn must(self, what: &str) -> Result<T, String>;
}

impl<T, E: std::fmt::Debug> Must<T> for Result<T, E> {
    fn must(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e:?}"))
    }
}

impl<T> Must<T> for Option<T> {
    fn must(self, what: &str) -> Result<T, String> {
        self.ok_or_else(|| format!("{what}: nothing there"))
    }
}

/// The refusal a call must end in.
trait MustFail<E> {
    fn must_fail(self, what: &str) -> Result<E, String>;
}

impl<T: std::fmt::Debug, E> MustFail<E> for Result<T, E> {
    fn must_fail(self, what: &str) -> Result<E, String> {
        match self {
            Ok(v) => Err(format!("{what}: succeeded with {v:?}")),
            Err(e) => Ok(e),
        }
    }
}

/// Every store port the contract covers.
pub trait ContractStore:
    BookingReader
    + BookingWriter
    + BookingLists
    + Calendar
    + NotificationStore
    + ProfileStore
    + Outbox
    + PayoutAccountStore
    + OwnerPayouts
    + PayoutStore
    + ListingWriter
    + ListingSnapshots
    + DueBookings
    + MemberRecords
    + MessageStore
    + InquiryStore
    + ReportStore
    + ReviewStore
    + ListingDetailReader
    + DepositStore
    + CustomerStore
    + ClaimStore
    + EvidenceStore
    + crate::ports::EmailPreferences
    + crate::ports::EmailLedger
    + crate::ports::Suppressions
{
}
impl<T> ContractStore for T where
    T: BookingReader
        + BookingWriter
        + BookingLists
        + Calendar
        + NotificationStore
        + ProfileStore
        + Outbox
        + PayoutAccountStore
        + OwnerPayouts
        + PayoutStore
        + ListingWriter
        + ListingSnapshots
        + DueBookings
        + MemberRecords
        + MessageStore
        + InquiryStore
        + ReportStore
        + ReviewStore
        + ListingDetailReader
        + DepositStore
        + CustomerStore
        + ClaimStore
        + EvidenceStore
        + crate::ports::EmailPreferences
        + crate::ports::EmailLedger
        + crate::ports::Suppressions
{
}

/// Runs every check of the contract against `store`.
pub async fn all(store: &impl ContractStore) -> Result<(), String> {
    day_holds(store).await?;
    conditional_moves(store).await?;
    idempotency_records(store).await?;
    paging_order(store).await?;
    records_once(store).await?;
    outbox(store).await?;
    listing_snapshots(store).await?;
    stays::due_lists_and_member_records(store).await?;
    messages::message_threads(store).await?;
    messages::inquiries(store).await?;
    reports::condition_reports(store).await?;
    reviews::reviews_blind_and_rated_once(store).await?;
    payouts::payout_accounts(store).await?;
    payouts::owner_payouts(store).await?;
    payouts::payouts(store).await?;
    deposits::deposits(store).await?;
    claims::claims(store).await?;
    email::email(store).await
}

fn user() -> Result<UserId, String> {
    UserId::parse(&uuid::Uuid::new_v4().to_string()).must("a uuid is a user id")
}

fn listing(owner: &UserId) -> Result<Listing, String> {
    let request = serde_json::from_value(serde_json::json!({
        "title": "Contract drill", "category": "tools", "location": {"city": "Berlin", "country": "DE"},
        "daily_price": {"amount": 1000, "currency": "EUR"}, "deposit": {"amount": 0, "currency": "EUR"},
        "min_days": 1, "max_days": 30, "booking_mode": "request", "status": "active"
    }))
    .must("a listing request")?;
    Listing::create(request, owner.clone(), Utc::now().trunc_subsecs(3)).must("a valid listing")
}

fn day(offset: i64) -> NaiveDate {
    Utc::now().date_naive() + Duration::days(offset)
}

fn range(from: i64, to: i64) -> Result<DateRange, String> {
    DateRange::new(day(from), day(to)).must("from < to")
}

fn book(listing: &Listing, renter: &UserId, days: DateRange) -> Result<Booking, String> {
    // Stores keep milliseconds; so does the contract, so a read compares equal to a write.
    let now = Utc::now().trunc_subsecs(3);
    Booking::request(listing, renter.clone(), days, None, now, Default::default()).must("a valid booking")
}

async fn unavailable(store: &impl Calendar, listing: &ListingId) -> Result<Vec<NaiveDate>, String> {
    store.unavailable_days(listing, &range(0, 60)?).await.must("unavailable days")
}

/// The event a test write carries (its kind names the step, for the messages).
fn event_for(subject: String, kind: &str) -> DomainEvent {
    DomainEvent::new(kind, subject, None, Utc::now().trunc_subsecs(3), serde_json::json!({}))
}

fn booking_event(b: &Booking, kind: &str) -> DomainEvent {
    event_for(format!("booking/{}", b.id), kind)
}

/// `create_booking` with its announcement.
async fn create(
    store: &impl ContractStore,
    b: &Booking,
    key: Option<&IdempotencyKey>,
) -> Result<Created<Booking>, AppError> {
    store.create_booking(b, key, &booking_event(b, "booking.requested")).await
}

fn code(err: AppError) -> &'static str {
    err.code()
}

/// Days are held by one booking or one block at a time; a refused write leaves nothing behind.
pub async fn day_holds(store: &impl ContractStore) -> Result<(), String> {
    let owner = user()?;
    let l = listing(&owner)?;
    let first = book(&l, &user()?, range(10, 13)?)?;
    assert_eq!(create(store, &first, None).await.must("first booking")?, Created::New);
    assert_eq!(unavailable(store, &l.id).await?, range(10, 13)?.each_day().collect::<Vec<_>>());

    let overlapping = book(&l, &user()?, range(12, 15)?)?;
    let err = create(store, &overlapping, None).await.must_fail("an overlapping booking")?;
    assert_eq!(code(err), "dates_unavailable");
    assert_eq!(store.get_booking(&overlapping.id).await.must("read")?, None, "a refused booking is not stored");
    assert_eq!(unavailable(store, &l.id).await?.len(), 3, "a refused booking holds no day");

    let err = store.block_days(&l.id, &range(12, 16)?).await.must_fail("a block over a booked day")?;
    assert_eq!(code(err), "dates_unavailable");
    assert_eq!(unavailable(store, &l.id).await?.len(), 3, "a refused block blocks nothing");

    store.block_days(&l.id, &range(20, 22)?).await.must("a free block")?;
    store.block_days(&l.id, &range(21, 23)?).await.must("blocking a blocked day again")?;
    let err = create(store, &book(&l, &user()?, range(22, 24)?)?, None).await.must_fail("over a block")?;
    assert_eq!(code(err), "dates_unavailable");

    store.unblock_days(&l.id, &range(9, 23)?).await.must("unblocking around a booking")?;
    assert_eq!(unavailable(store, &l.id).await?, range(10, 13)?.each_day().collect::<Vec<_>>(), "booked days stay");
    Ok(())
}

/// A move wins only from the status and version it read; leaving a holding status frees the days.
pub async fn conditional_moves(store: &impl ContractStore) -> Result<(), String> {
    let l = listing(&user()?)?;
    let b = book(&l, &user()?, range(5, 8)?)?;
    create(store, &b, None).await.must("booking")?;
    let now = b.created_at + Duration::minutes(1);
    // A change that keeps the status (the payment side's records) still bumps the version,
    // and a move from the earlier version then loses, though the status matches.
    let mut touched = b.clone();
    touched.version += 1;
    store.move_booking(&b, &touched, None).await.must("a same-status change")?;
    let declined = b.moved(Transition::Decline, now).must("decline")?;
    let err = store
        .move_booking(&b, &declined, Some(&booking_event(&b, "booking.declined")))
        .await
        .must_fail("a move from a stale version")?;
    assert!(matches!(err, AppError::PreconditionFailed), "{err:?}");
    let accepted = touched.moved(Transition::Accept, now).must("accept")?;
    store
        .move_booking(&touched, &accepted, Some(&booking_event(&b, "booking.accepted")))
        .await
        .must("a move from the current version")?;
    let err = store
        .move_booking(&touched, &declined, Some(&booking_event(&b, "booking.declined")))
        .await
        .must_fail("a move from a stale status")?;
    assert!(matches!(err, AppError::PreconditionFailed), "{err:?}");
    let stored = store.get_booking(&b.id).await.must("read")?.must("stored")?;
    assert_eq!((stored.status, stored.version), (BookingStatus::PendingPayment, 3));
    assert_eq!(unavailable(store, &l.id).await?.len(), 3);

    let cancelled = accepted.moved(Transition::Cancel, now).must("cancel")?;
    store.move_booking(&accepted, &cancelled, Some(&booking_event(&b, "booking.cancelled"))).await.must("cancel")?;
    assert!(unavailable(store, &l.id).await?.is_empty(), "a cancelled booking holds no day");
    let again = book(&l, &user()?, range(5, 8)?)?;
    assert_eq!(create(store, &again, None).await.must("rebooking freed days")?, Created::New);
    Ok(())
}

/// A key replays its booking for the same request, refuses a different one, and is per caller.
pub async fn idempotency_records(store: &impl ContractStore) -> Result<(), String> {
    let l = listing(&user()?)?;
    let renter = user()?;
    let key = |fingerprint: &str| IdempotencyKey {
        scope: renter.to_string(),
        key: "contract-key".into(),
        fingerprint: fingerprint.into(),
    };
    let first = book(&l, &renter, range(3, 5)?)?;
    assert_eq!(create(store, &first, Some(&key("a"))).await.must("first")?, Created::New);
    let retry = book(&l, &renter, range(3, 5)?)?;
    match create(store, &retry, Some(&key("a"))).await.must("a retry")? {
        Created::Replayed(earlier) => assert_eq!(earlier.id, first.id),
        other => return Err(format!("a retry must replay the first booking, got {other:?}")),
    }
    assert_eq!(store.get_booking(&retry.id).await.must("read")?, None, "a replay stores nothing");
    let err = create(store, &book(&l, &renter, range(6, 7)?)?, Some(&key("b"))).await.must_fail("reused")?;
    assert_eq!(code(err), "idempotency_key_reused");
    let other = IdempotencyKey { scope: user()?.to_string(), ..key("a") };
    let theirs = book(&l, &user()?, range(9, 10)?)?;
    assert_eq!(create(store, &theirs, Some(&other)).await.must("another caller's key")?, Created::New);
    Ok(())
}

/// Lists are newest first, and paging through them yields every item once.
pub async fn paging_order(store: &impl ContractStore) -> Result<(), String> {
    let renter = user()?;
    let mut made = Vec::new();
    for i in 0..5 {
        let l = listing(&user()?)?;
        let b = book(&l, &renter, range(i + 1, i + 2)?)?;
        create(store, &b, None).await.must("booking")?;
        made.push(b.id.clone());
        tokio::time::sleep(std::time::Duration::from_millis(3)).await; // distinct creation times
    }
    made.reverse();
    let (mut seen, mut start) = (Vec::new(), None);
    loop {
        let page = store.bookings_of(Party::Renter, &renter, None, 2, start).await.must("a page")?;
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|b| b.id));
        match page.last_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    assert_eq!(seen, made, "newest first, each once");
    let confirmed = store.bookings_of(Party::Renter, &renter, Some(BookingStatus::Confirmed), 10, None).await;
    assert!(confirmed.must("a filtered page")?.items.is_empty());
    let as_owner = store.bookings_of(Party::Owner, &renter, None, 10, None).await.must("owner page")?;
    assert!(as_owner.items.is_empty(), "a renter owns none of them");
    Ok(())
}

/// Notifications, profiles and their audit entries are stored once, however often they are written.
pub async fn records_once(store: &impl ContractStore) -> Result<(), String> {
    let me = user()?;
    let now = Utc::now().trunc_subsecs(3);
    let n = Notification {
        id: format!("{}-renter", uuid::Uuid::now_v7()),
        user_id: me.clone(),
        kind: "booking.accepted".into(),
        booking_id: Some(uuid::Uuid::now_v7().to_string()),
        inquiry_id: None,
        text: "Accepted".into(),
        read: false,
        created_at: now,
        read_at: None,
    };
    assert_eq!(store.put_notification(&n).await.must("put")?, Recorded::New);
    assert_eq!(store.put_notification(&n).await.must("put again")?, Recorded::Duplicate);
    assert_eq!(store.notifications_of(&me, 10, None).await.must("list")?.items, vec![n.clone()]);
    let read = store.mark_read(&me, &n.id, now).await.must("mark read")?;
    assert_eq!((read.read, read.read_at), (true, Some(now)));
    assert!(matches!(store.mark_read(&user()?, &n.id, now).await, Err(AppError::NotFound(_))), "not theirs");

    let profile = Profile::register(me.clone(), Some("Contract"), None, now);
    let registered = event_for(format!("user/{me}"), "user.registered");
    assert_eq!(store.create_profile_if_absent(&profile, &registered).await.must("create")?, (profile.clone(), true));
    let later = Profile::register(me.clone(), Some("Someone else"), None, now + Duration::seconds(1));
    let again = event_for(format!("user/{me}"), "user.registered");
    let (kept, created) = store.create_profile_if_absent(&later, &again).await.must("create again")?;
    assert_eq!((kept.display_name.as_str(), created), ("Contract", false));
    let trail: Vec<String> =
        store.events_of(&format!("user/{me}")).await.must("events")?.into_iter().map(|e| e.kind).collect();
    assert_eq!(trail, ["user.registered"], "one trail entry");
    Ok(())
}

/// Each change's event is stored with it, and only when the change is: a refused write (a taken
/// day, a stale move, an existing profile) leaves no event behind.
pub async fn outbox(store: &impl ContractStore) -> Result<(), String> {
    let kinds = |events: Vec<DomainEvent>| events.into_iter().map(|e| e.kind).collect::<Vec<_>>();
    let l = listing(&user()?)?;
    let b = book(&l, &user()?, range(30, 32)?)?;
    let subject = format!("booking/{}", b.id);
    create(store, &b, None).await.must("booking")?;
    let clash = book(&l, &user()?, range(31, 33)?)?;
    create(store, &clash, None).await.must_fail("a clashing booking")?;
    assert!(store.events_of(&format!("booking/{}", clash.id)).await.must("events")?.is_empty(), "a refused booking");

    let now = b.created_at + Duration::minutes(1);
    let mut touched = b.clone();
    touched.version += 1;
    store.move_booking(&b, &touched, None).await.must("a change without an event")?;
    let accepted = touched.moved(Transition::Accept, now).must("accept")?;
    let stale = store.move_booking(&b, &accepted, Some(&booking_event(&b, "booking.stale"))).await;
    stale.must_fail("a stale move")?;
    store.move_booking(&touched, &accepted, Some(&booking_event(&b, "booking.accepted"))).await.must("accept")?;
    let stored = store.events_of(&subject).await.must("events")?;
    assert_eq!(kinds(stored.clone()), vec!["booking.requested", "booking.accepted"], "in order, once each");
    assert!(stored.iter().all(|e| e.subject == subject));

    let me = user()?;
    let profile = Profile::register(me.clone(), Some("Outbox"), None, now);
    for _ in 0..2 {
        store
            .create_profile_if_absent(&profile, &event_for(format!("user/{me}"), "user.registered"))
            .await
            .must("profile")?;
    }
    assert_eq!(kinds(store.events_of(&format!("user/{me}")).await.must("events")?), vec!["user.registered"]);
    Ok(())
}

/// A listing's snapshot is the stored listing with its held and blocked days from the given day
/// on, in order, and nothing for a listing that does not exist.
pub async fn listing_snapshots(store: &impl ContractStore) -> Result<(), String> {
    let owner = user()?;
    let l = listing(&owner)?;
    store.create_listing(&l, &event_for(format!("listing/{}", l.id), "listing.created")).await.must("a listing")?;
    let b = book(&l, &user()?, range(3, 5)?)?;
    create(store, &b, None).await.must("a booking")?;
    store.block_days(&l.id, &range(7, 8)?).await.must("a block")?;
    store.block_days(&l.id, &range(1, 2)?).await.must("an earlier block")?;
    let (read, days, rating) = store.snapshot(&l.id, day(2)).await.must("a snapshot")?.must("the listing")?;
    assert_eq!(rating, Default::default(), "no reviews, no rating");
    assert_eq!(read, l, "the stored listing");
    assert_eq!(days, vec![day(3), day(4), day(7)], "held and blocked days from the day asked, in order");
    let other = listing(&owner)?;
    assert_eq!(store.snapshot(&other.id, day(0)).await.must("a snapshot of nothing")?, None);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_memory_store_keeps_the_contract() {
        if let Err(broken) = super::all(&super::super::MemoryStore::default()).await {
            panic!("the in-memory store breaks the contract: {broken}");
        }
    }

    #[tokio::test]
    async fn the_memory_index_keeps_the_contract() {
        if let Err(broken) = super::search_index(&super::super::MemoryIndex::default()).await {
            panic!("the in-memory index breaks the contract: {broken}");
        }
    }
}
