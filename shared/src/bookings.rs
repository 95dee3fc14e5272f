//! Booking workflows every booking function shares: moving a booking through the state
//! machine (with the race handling), announcing moves, and the checks at the edges.

use chrono::{DateTime, Utc};

use crate::domain::booking::{Booking, BookingId, Party, Transition};
use crate::domain::events::DomainEvent;
use crate::domain::listing::{Listing, ListingId};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{BookingReader, BookingWriter, ListingReader};

/// The event announcing `booking`'s state; consumers (notifications) read only this.
pub fn event(kind: &str, booking: &Booking, actor: Option<&UserId>, at: DateTime<Utc>) -> DomainEvent {
    DomainEvent::new(
        kind,
        format!("booking/{}", booking.id),
        actor.map(ToString::to_string),
        at,
        serde_json::json!({
            "booking_id": booking.id.as_str(),
            "listing_id": booking.listing_id.as_str(),
            "listing_title": booking.listing_title,
            "renter_id": booking.renter_id.as_str(),
            "owner_id": booking.owner_id.as_str(),
            "status": booking.status.as_str(),
            "start_date": booking.start_date,
            "end_date": booking.end_date,
            "version": booking.version,
        }),
    )
}

/// The booking `id` if `user` is its renter or its listing's owner; `NotFound` for anyone
/// else, exactly as for an id that does not exist.
pub async fn visible_booking(
    store: &impl BookingReader,
    id: &BookingId,
    user: &UserId,
) -> Result<(Booking, Party), AppError> {
    let booking = store.get_booking(id).await?.ok_or(AppError::NotFound("booking"))?;
    let party = booking.party(user).ok_or(AppError::NotFound("booking"))?;
    Ok((booking, party))
}

/// The listing `id` as the public may see it (active), else `NotFound`.
pub async fn public_listing(store: &impl ListingReader, id: &str) -> Result<Listing, AppError> {
    let id = ListingId::parse(id)?;
    store.get_listing(&id).await?.filter(|l| l.visible_to(None)).ok_or(AppError::NotFound("listing"))
}

/// Moves booking `id` by `t` at `now`, as `actor` (none for scheduled tasks and payments),
/// and announces it: the event is written with the move (the outbox). `edit` adds what the move
/// records (who cancelled and why). See `change_booking` for the races.
pub async fn move_booking<S>(
    store: &S,
    id: &BookingId,
    t: Transition,
    now: DateTime<Utc>,
    actor: Option<&UserId>,
    edit: impl Fn(&mut Booking),
) -> Result<Booking, AppError>
where
    S: BookingReader + BookingWriter,
{
    change_booking(store, id, now, actor, |current| {
        let mut next = current.moved(t, now)?;
        edit(&mut next);
        Ok((next, t.event_kind()))
    })
    .await
}

/// Changes booking `id` into what `change` makes of it and announces that with the event kind
/// it names, in one write (the outbox). Every write is conditional on the status and version
/// read; when another change wins the race we read again: the change is either still possible
/// on the new state (retried) or refused by `change` (409 naming the state that won).
pub async fn change_booking<S>(
    store: &S,
    id: &BookingId,
    now: DateTime<Utc>,
    actor: Option<&UserId>,
    change: impl Fn(&Booking) -> Result<(Booking, &'static str), AppError>,
) -> Result<Booking, AppError>
where
    S: BookingReader + BookingWriter,
{
    for _ in 0..3 {
        let current = store.get_booking(id).await?.ok_or(AppError::NotFound("booking"))?;
        let (next, kind) = change(&current)?;
        let announcement = event(kind, &next, actor, now);
        match store.move_booking(&current, &next, Some(&announcement)).await {
            Ok(()) => {
                tracing::info!(booking_id = %id, from = current.status.as_str(), to = next.status.as_str(), event_id = %announcement.id, kind, "booking moved");
                crate::metrics::count("BookingMoves", &[("To", next.status.as_str())]);
                return Ok(next);
            }
            Err(AppError::PreconditionFailed) => {
                tracing::info!(booking_id = %id, "booking moved concurrently; reading again");
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Err(busy())
}

pub(crate) fn busy() -> AppError {
    AppError::conflict("booking_busy", "the booking is changing right now; try again")
}

/// `pending_payment` -> `confirmed`: what the payment worker calls when a payment succeeded
/// (the amount check belongs to the payment side). Tests confirm through this same function.
pub async fn confirm_payment<S>(store: &S, id: &BookingId, now: DateTime<Utc>) -> Result<Booking, AppError>
where
    S: BookingReader + BookingWriter,
{
    move_booking(store, id, Transition::ConfirmPayment, now, None, |_| {}).await
}

/// An `Idempotency-Key` header: 1-255 visible ASCII characters.
pub fn parse_idempotency_key(raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(k.to_owned())),
        Some(_) => Err(AppError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1-255 visible ASCII characters",
        )),
    }
}

/// A move only the listing's owner may make (accept, decline): the renter gets 403 (they can
/// see the booking), anyone else 404.
pub async fn owner_move<S>(
    store: &S,
    caller: &UserId,
    id: &BookingId,
    t: Transition,
    now: DateTime<Utc>,
) -> Result<Booking, AppError>
where
    S: BookingReader + BookingWriter,
{
    let (_, party) = visible_booking(store, id, caller).await?;
    if party != Party::Owner {
        return Err(AppError::Forbidden);
    }
    move_booking(store, id, t, now, Some(caller), |_| {}).await
}

/// One run of a scheduled task: every booking due for `what` at `now` (up to `batch`) moved by
/// `t`. See `run_due_with`.
pub async fn run_due<S>(
    store: &S,
    what: crate::ports::Due,
    t: Transition,
    now: DateTime<Utc>,
    batch: u32,
) -> Result<(usize, usize, usize), AppError>
where
    S: crate::ports::DueBookings + BookingReader + BookingWriter,
{
    run_due_with(store, what, now, batch, |current| {
        let next = current.moved(t, now)?;
        Ok((next, t.event_kind()))
    })
    .await
}

/// One run of a scheduled task: every booking due for `what` at `now` (up to `batch`) changed
/// by `change`. Another run, a party or a payment may have moved one since the index was read:
/// `change` then refuses (409) and it is skipped. Returns (due, changed, skipped).
pub async fn run_due_with<S>(
    store: &S,
    what: crate::ports::Due,
    now: DateTime<Utc>,
    batch: u32,
    change: impl Fn(&Booking) -> Result<(Booking, &'static str), AppError>,
) -> Result<(usize, usize, usize), AppError>
where
    S: crate::ports::DueBookings + BookingReader + BookingWriter,
{
    let due = store.due(what, now, batch).await?;
    let (mut moved, mut skipped) = (0, 0);
    for id in &due {
        match change_booking(store, id, now, None, &change).await {
            Ok(_) => moved += 1,
            Err(AppError::Conflict { .. } | AppError::NotFound(_)) => skipped += 1,
            Err(e) => return Err(e),
        }
    }
    Ok((due.len(), moved, skipped))
}

/// The owner's listing and a valid calendar range from a block/unblock request: not in the
/// past, at most `MAX_RANGE_DAYS`; non-owners get 404.
pub async fn owner_range(
    store: &impl ListingReader,
    caller: &crate::identity::Caller,
    listing: &ListingId,
    body: &crate::domain::booking::RangeRequest,
    today: chrono::NaiveDate,
) -> Result<(Listing, crate::domain::booking::DateRange), AppError> {
    use crate::domain::booking::{DateRange, MAX_RANGE_DAYS};
    let range = DateRange::parse(&body.start_date, &body.end_date)?;
    if range.start < today {
        return Err(AppError::field("start_date", "must not be in the past"));
    }
    if range.days() > MAX_RANGE_DAYS {
        return Err(AppError::field("end_date", format!("a range is at most {MAX_RANGE_DAYS} days; send several")));
    }
    let listing = crate::services::owned_listing(store, caller, listing).await?;
    Ok((listing, range))
}
