//! Bookings, their lists, due work and past renters.

use super::*;

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
        event: &DomainEvent,
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
        if let Some(id) = &booking.inquiry_id {
            lock(&self.open_inquiries).remove(&(booking.listing_id.clone(), booking.renter_id.clone()));
            if let Some(inquiry) = lock(&self.inquiries).get_mut(id) {
                inquiry.booking_id = Some(booking.id.clone());
            }
        }
        self.outbox(event);
        Ok(Created::New)
    }

    async fn move_booking(
        &self,
        previous: &Booking,
        next: &Booking,
        event: Option<&DomainEvent>,
    ) -> Result<(), AppError> {
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
        if previous.status == BookingStatus::Returned && next.status == BookingStatus::Completed {
            let mut stats = lock(&self.member_stats);
            stats.entry(next.renter_id.clone()).or_default().completed_as_renter += 1;
            stats.entry(next.owner_id.clone()).or_default().completed_as_owner += 1;
        }
        bookings.insert(next.id.clone(), next.clone());
        if let Some(e) = event {
            self.outbox(e);
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
                Due::ReturnOverdue { grace } => {
                    b.status == BookingStatus::InProgress
                        && b.handover.overdue_since.is_none()
                        && b.ends_at() + grace <= now
                }
                Due::Settlement { claim_window } => {
                    b.status == BookingStatus::Returned
                        && b.handover.returned_at.is_some_and(|at| at + claim_window <= now)
                }
            };
            if is_due {
                due.push(b);
            }
        }
        Ok(due.into_iter().take(limit as usize).map(|b| b.id.clone()).collect())
    }
}

#[async_trait]
impl ListingRenters for MemoryStore {
    async fn has_booked(&self, listing: &ListingId, user: &UserId) -> Result<bool, AppError> {
        Ok(lock(&self.bookings).values().any(|b| &b.listing_id == listing && &b.renter_id == user))
    }
}

/// A confirmed, paid booking of `days` days from `start` (`YYYY-MM-DD`) at `daily` minor units
/// a day, with the default rates, a 50.00 EUR deposit and the default (`moderate`) policy.
pub fn confirmed_booking(start: &str, days: i64, daily: i64) -> Result<Booking, AppError> {
    use crate::domain::booking::{BookingStatus, CancellationPolicy, PaymentStatus, Pricing, Quote};
    use crate::domain::money::{Currency, Money};
    let start = chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d")
        .map_err(|_| AppError::field("start", "must be a date (YYYY-MM-DD)"))?;
    let eur = Currency::parse("EUR").ok_or_else(|| AppError::internal("EUR is a currency"))?;
    let quote = Quote::compute(
        days,
        Money { amount: daily, currency: eur },
        Money { amount: 5_000, currency: eur },
        Pricing::default(),
    )?;
    let now = chrono::Utc::now();
    let payment = crate::domain::booking::PaymentState {
        status: PaymentStatus::Succeeded,
        intent_id: Some("pi_1".into()),
        ..Default::default()
    };
    Ok(Booking {
        id: BookingId::generate(),
        listing_id: crate::domain::listing::ListingId::generate(),
        listing_title: "Drill".into(),
        owner_id: crate::domain::user::UserId::parse("owner")?,
        renter_id: crate::domain::user::UserId::parse("renter")?,
        start_date: start,
        end_date: start + chrono::Duration::days(days),
        status: BookingStatus::Confirmed,
        quote,
        cancellation_policy: CancellationPolicy::default(),
        message: None,
        inquiry_id: None,
        hold_expires_at: None,
        cancelled_by: None,
        cancel_reason: None,
        payment,
        handover: crate::domain::booking::Handover::new()?,
        created_at: now,
        updated_at: now,
        version: 1,
    })
}

/// [`confirmed_booking`] picked up and returned at `at`: its parties may review each other
/// from then for 14 days.
pub fn returned_booking(start: &str, at: DateTime<Utc>) -> Result<Booking, AppError> {
    use crate::domain::booking::Transition;
    let b = confirmed_booking(start, 3, 1000)?;
    let mut b = b.moved(Transition::PickUp, at)?.moved(Transition::Return, at)?;
    b.handover.returned_at = Some(at);
    Ok(b)
}
