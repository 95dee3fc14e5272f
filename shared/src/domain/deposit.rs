//! Deposits held on the renter's card, never charged up front (decision 0040): the card saved
//! at payment is authorized for the deposit (`capture_method=manual`) `DepositHoldLeadHours`
//! before the start, renewed before the authorization lapses, and at settlement released or
//! captured in part (late fees, later claims). `Deposit::next_step` is the one rule the
//! scheduled task, the completion task, cancellations and the payment worker follow.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;

use super::booking::{Booking, BookingId, BookingStatus};
use super::money::Currency;
use super::user::UserId;

/// Default lead between placing the hold and the start (00:00 UTC of the start date).
pub const DEFAULT_HOLD_LEAD_HOURS: i64 = 24;
/// Card authorizations lapse after 7 days; a hold older than this is renewed first.
pub const RENEW_AFTER: Duration = Duration::days(6);

string_enum!(
    /// Where a booking's deposit stands.
    DepositStatus {
        /// To be held at `hold_at`.
        Scheduled => "scheduled",
        /// Authorized on the renter's card (`intent_id`), nothing taken.
        Held => "held",
        /// The last hold failed (`failure_code`): the renter is asked to confirm one with
        /// another card (`POST /bookings/{id}/deposit`).
        Failed => "failed",
        /// Settled: nothing taken, the hold cancelled (or never placed).
        Released => "released",
        /// Settled: `captured` taken, the rest released.
        Captured => "captured",
    }
);

/// An authorization in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub intent_id: String,
    pub authorized_at: DateTime<Utc>,
}

/// How a deposit was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settlement {
    pub captured: i64,
    /// What was owed beyond the hold and could not be taken from it.
    pub uncollected: i64,
    pub at: DateTime<Utc>,
}

/// A booking's deposit: created when its payment confirms (`BOOKING#{id}` / `DEPOSIT`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deposit {
    pub booking_id: BookingId,
    pub renter_id: UserId,
    pub currency: Currency,
    pub amount: i64,
    /// The renter's Stripe Customer and the card saved at payment.
    pub customer_id: String,
    pub payment_method: Option<String>,
    pub hold_at: DateTime<Utc>,
    pub hold: Option<Hold>,
    /// An older hold a renewal replaced: cancelled once the new one is authorized.
    pub replaced_intent: Option<String>,
    /// A hold the renter is confirming on-session after a failure.
    pub pending_intent: Option<String>,
    /// Holds asked of Stripe so far (each has its own idempotency key).
    pub holds_placed: u32,
    pub failure_code: Option<String>,
    pub settlement: Option<Settlement>,
    /// The last Stripe error of a step to retry (the due list keeps the deposit while set).
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// What the booking needs of its deposit now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Held until settlement.
    Keep,
    /// Settled, taking this much (late fees; 0 releases all).
    Settle(i64),
}

/// What to do next with a deposit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepositStep {
    Nothing,
    /// Authorize the deposit off-session on the saved card.
    Hold,
    /// Authorize a new hold before this one lapses; the old one is cancelled after.
    Renew,
    /// Cancel the hold a renewal or a replacement card made redundant.
    CancelReplaced(String),
    /// Cancel the hold: nothing is taken.
    Release(String),
    /// Capture this much of the hold; Stripe releases the rest.
    Capture(String, i64),
    /// Settle without Stripe: nothing is held (never placed, failed or lapsed).
    Close,
}

impl Need {
    /// What `booking` needs of its deposit at `now`, its claim window closing `claim_window`
    /// after the return.
    pub fn of(booking: &Booking, claim_window: Duration, now: DateTime<Utc>) -> Need {
        let late_fee = booking.handover.late_fee;
        match booking.status {
            BookingStatus::Requested | BookingStatus::PendingPayment | BookingStatus::InProgress => Need::Keep,
            // Never picked up: nothing to claim once the stay is over.
            BookingStatus::Confirmed if now.date_naive() >= booking.end_date => Need::Settle(0),
            BookingStatus::Confirmed => Need::Keep,
            BookingStatus::Returned => match booking.handover.returned_at {
                Some(at) if now >= at + claim_window => Need::Settle(late_fee),
                _ => Need::Keep,
            },
            BookingStatus::Completed => Need::Settle(late_fee),
            BookingStatus::Cancelled | BookingStatus::Expired | BookingStatus::Declined => Need::Settle(0),
        }
    }
}

impl Deposit {
    /// The deposit of `booking`, whose payment just confirmed with `payment_method` saved to
    /// `customer_id`: held `lead_hours` before the start (or now, when that has passed).
    pub fn schedule(
        booking: &Booking,
        customer_id: String,
        payment_method: Option<String>,
        lead_hours: i64,
        now: DateTime<Utc>,
    ) -> Self {
        let starts = booking.start_date.and_time(NaiveTime::MIN).and_utc();
        Deposit {
            booking_id: booking.id.clone(),
            renter_id: booking.renter_id.clone(),
            currency: booking.quote.currency,
            amount: booking.quote.deposit,
            customer_id,
            payment_method,
            hold_at: starts - Duration::hours(lead_hours),
            hold: None,
            replaced_intent: None,
            pending_intent: None,
            holds_placed: 0,
            failure_code: None,
            settlement: None,
            last_error: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn status(&self) -> DepositStatus {
        match (&self.settlement, &self.hold, &self.failure_code) {
            (Some(s), _, _) if s.captured > 0 => DepositStatus::Captured,
            (Some(_), _, _) => DepositStatus::Released,
            (None, _, Some(_)) => DepositStatus::Failed,
            (None, Some(_), None) => DepositStatus::Held,
            (None, None, None) => DepositStatus::Scheduled,
        }
    }

    /// The one rule. A replaced hold is cancelled first; a settled deposit has nothing left to
    /// do; otherwise the booking's need decides: hold when due, renew before the lapse (unless
    /// a failure waits for the renter), capture or release at settlement.
    pub fn next_step(&self, need: Need, now: DateTime<Utc>) -> DepositStep {
        if let Some(old) = &self.replaced_intent {
            return DepositStep::CancelReplaced(old.clone());
        }
        if self.settlement.is_some() {
            return DepositStep::Nothing;
        }
        match (need, &self.hold) {
            (Need::Keep, None) if self.failure_code.is_none() && now >= self.hold_at => DepositStep::Hold,
            (Need::Keep, Some(h)) if self.failure_code.is_none() && now >= h.authorized_at + RENEW_AFTER => {
                DepositStep::Renew
            }
            (Need::Keep, _) => DepositStep::Nothing,
            (Need::Settle(owed), Some(h)) if owed > 0 => {
                DepositStep::Capture(h.intent_id.clone(), owed.min(self.amount))
            }
            (Need::Settle(_), Some(h)) => DepositStep::Release(h.intent_id.clone()),
            (Need::Settle(_), None) => DepositStep::Close,
        }
    }

    /// When the scheduled task should look at it next: a replaced hold or a failed step at
    /// once, a hold at `hold_at`, a renewal before the lapse; never once settled or while a
    /// failure waits for the renter. Settlement itself follows the booking (its due list).
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        if self.replaced_intent.is_some() || (self.last_error.is_some() && self.settlement.is_none()) {
            return Some(self.updated_at);
        }
        if self.settlement.is_some() || self.failure_code.is_some() {
            return None;
        }
        Some(self.hold.as_ref().map_or(self.hold_at, |h| h.authorized_at + RENEW_AFTER))
    }

    /// The idempotency key of the next hold asked of Stripe.
    pub fn next_hold_key(&self) -> String {
        format!("deposit-{}-{}", self.booking_id, self.holds_placed + 1)
    }

    /// After Stripe authorized `intent_id` at `now` (off-session, or the renter's own
    /// confirmation): the hold in force; a hold it replaces is cancelled next.
    pub fn held(&self, intent_id: String, now: DateTime<Utc>) -> Deposit {
        let mut next = self.clone();
        if let Some(old) = self.hold.as_ref().filter(|h| h.intent_id != intent_id) {
            next.replaced_intent = Some(old.intent_id.clone());
        }
        next.hold = Some(Hold { intent_id, authorized_at: now });
        (next.failure_code, next.pending_intent, next.last_error) = (None, None, None);
        next
    }

    /// After Stripe refused a hold (`code`): the renter is asked for another card. A hold
    /// still in force (a failed renewal) stays until it lapses.
    pub fn refused(&self, code: String) -> Deposit {
        Deposit { failure_code: Some(code), last_error: None, ..self.clone() }
    }

    /// Settled with `captured` of `owed` taken (0: released).
    pub fn settled(&self, owed: i64, captured: i64, now: DateTime<Utc>) -> Deposit {
        let settlement = Settlement { captured, uncollected: (owed - captured).max(0), at: now };
        Deposit { settlement: Some(settlement), last_error: None, ..self.clone() }
    }

    /// Stripe ended `intent_id` without us (a lapse, a cancellation in the Dashboard): if it
    /// was the hold in force, none is left and the renter is asked for another.
    pub fn lost(&self, intent_id: &str) -> Option<Deposit> {
        if self.settlement.is_some() || self.hold.as_ref().is_none_or(|h| h.intent_id != intent_id) {
            return None;
        }
        Some(Deposit { hold: None, failure_code: Some("hold_lapsed".into()), ..self.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::{Booking, DateRange, Pricing};
    use crate::domain::listing::Listing;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn booking() -> Booking {
        let listing = Listing::create(
            serde_json::from_value(serde_json::json!({
                "title": "Camera", "category": "cameras", "location": {"city": "Berlin", "country": "DE"},
                "daily_price": {"amount": 1500, "currency": "EUR"}, "deposit": {"amount": 20000, "currency": "EUR"},
                "min_days": 1, "max_days": 30, "booking_mode": "instant", "status": "active"
            }))
            .unwrap(),
            UserId::parse("owner").unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        )
        .unwrap();
        let range = DateRange::parse("2026-12-10", "2026-12-20").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        Booking::request(&listing, UserId::parse("renter").unwrap(), range, None, now, Pricing::default()).unwrap()
    }

    fn deposit() -> Deposit {
        Deposit::schedule(&booking(), "cus_1".into(), Some("pm_1".into()), 24, at("2026-11-01T00:00:00Z"))
    }

    #[test]
    fn held_a_lead_before_the_start_then_renewed_before_the_lapse() {
        let d = deposit();
        assert_eq!((d.hold_at, d.status(), d.amount), (at("2026-12-09T00:00:00Z"), DepositStatus::Scheduled, 20000));
        assert_eq!(d.next_step(Need::Keep, at("2026-12-08T23:59:59Z")), DepositStep::Nothing);
        assert_eq!(d.next_step(Need::Keep, d.hold_at), DepositStep::Hold);
        assert_eq!(d.due_at(), Some(d.hold_at));
        let held = d.held("pi_1".into(), d.hold_at);
        assert_eq!((held.status(), held.due_at()), (DepositStatus::Held, Some(d.hold_at + RENEW_AFTER)));
        assert_eq!(held.next_step(Need::Keep, d.hold_at + RENEW_AFTER - Duration::seconds(1)), DepositStep::Nothing);
        assert_eq!(held.next_step(Need::Keep, d.hold_at + RENEW_AFTER), DepositStep::Renew);
        // The new hold first, then the old one goes.
        let renewed = held.held("pi_2".into(), d.hold_at + RENEW_AFTER);
        assert_eq!(renewed.hold.as_ref().unwrap().intent_id, "pi_2");
        assert_eq!(renewed.next_step(Need::Keep, d.hold_at + RENEW_AFTER), DepositStep::CancelReplaced("pi_1".into()));
        assert_eq!(renewed.due_at(), Some(renewed.updated_at), "at once");
        let again = renewed.held("pi_2".into(), d.hold_at + RENEW_AFTER);
        assert_eq!(again.replaced_intent, Some("pi_1".into()), "a repeated report replaces nothing new");
    }

    #[test]
    fn settles_by_what_the_booking_needs() {
        let mut b = booking();
        let window = Duration::hours(48);
        let now = at("2026-12-12T00:00:00Z");
        b.status = BookingStatus::Confirmed;
        assert_eq!(Need::of(&b, window, now), Need::Keep);
        assert_eq!(Need::of(&b, window, at("2026-12-20T00:00:00Z")), Need::Settle(0), "never picked up");
        b.status = BookingStatus::Returned;
        b.handover.returned_at = Some(at("2026-12-21T10:00:00Z"));
        b.handover.late_fee = 3000;
        assert_eq!(Need::of(&b, window, at("2026-12-23T09:59:59Z")), Need::Keep, "the claim window is open");
        assert_eq!(Need::of(&b, window, at("2026-12-23T10:00:00Z")), Need::Settle(3000));
        b.status = BookingStatus::Cancelled;
        assert_eq!(Need::of(&b, window, now), Need::Settle(0));

        let held = deposit().held("pi_1".into(), now);
        assert_eq!(held.next_step(Need::Settle(0), now), DepositStep::Release("pi_1".into()));
        assert_eq!(held.next_step(Need::Settle(3000), now), DepositStep::Capture("pi_1".into(), 3000));
        assert_eq!(
            held.next_step(Need::Settle(50_000), now),
            DepositStep::Capture("pi_1".into(), 20000),
            "never more than the hold"
        );
        let settled = held.settled(50_000, 20000, now);
        assert_eq!((settled.status(), settled.settlement.unwrap().uncollected), (DepositStatus::Captured, 30_000));
        assert_eq!(settled.next_step(Need::Settle(50_000), now), DepositStep::Nothing, "exactly once");
        assert_eq!(settled.due_at(), None);
        assert_eq!(deposit().next_step(Need::Settle(0), now), DepositStep::Close, "nothing was ever held");
        assert_eq!(held.settled(0, 0, now).status(), DepositStatus::Released);
    }

    #[test]
    fn a_failed_or_lapsed_hold_waits_for_the_renter() {
        let d = deposit();
        let now = d.hold_at;
        let failed = d.refused("authentication_required".into());
        assert_eq!((failed.status(), failed.due_at()), (DepositStatus::Failed, None));
        assert_eq!(failed.next_step(Need::Keep, now), DepositStep::Nothing, "not retried off-session");
        let replaced = failed.held("pi_9".into(), now);
        assert_eq!((replaced.status(), replaced.failure_code.clone()), (DepositStatus::Held, None));
        let lapsed = replaced.lost("pi_9").unwrap();
        assert_eq!((lapsed.status(), lapsed.failure_code.as_deref()), (DepositStatus::Failed, Some("hold_lapsed")));
        assert!(replaced.lost("pi_other").is_none(), "an old or released hold's end changes nothing");
        assert!(replaced.settled(0, 0, now).lost("pi_9").is_none());
        // A renewal refused keeps the hold in force until it lapses, and is not retried.
        let renewing = d.held("pi_1".into(), now).refused("card_declined".into());
        assert_eq!(renewing.next_step(Need::Keep, now + RENEW_AFTER), DepositStep::Nothing);
        assert_eq!(renewing.next_step(Need::Settle(0), now), DepositStep::Release("pi_1".into()));
        assert_eq!(d.next_hold_key(), format!("deposit-{}-1", d.booking_id));
    }
}
