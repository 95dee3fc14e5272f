//! Cancellation policies: what a cancellation refunds, by the listing's policy (copied onto the
//! booking when it is made, so a later change never alters an existing booking) and by who
//! cancels when. Times count to 00:00 UTC of the start date.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

use super::{Booking, BookingStatus, Party, PaymentStatus, Quote, RefundStatus};

string_enum!(
    /// A listing's cancellation policy (decision 0030).
    #[derive(Default)]
    CancellationPolicy {
        /// The whole rental back until 24 h before the start, half of it after.
        Flexible => "flexible",
        /// The whole rental back until 5 days before the start, half of it after.
        #[default]
        Moderate => "moderate",
        /// Half the rental back until 7 days before the start, nothing after.
        Strict => "strict",
    }
);

/// What a cancellation refunds, in the booking's currency (minor units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RefundPlan {
    pub rental: i64,
    pub service_fee: i64,
    pub deposit: i64,
}

impl RefundPlan {
    pub fn total(&self) -> i64 {
        self.rental + self.service_fee + self.deposit
    }
}

/// The share of the rental a renter's cancellation refunds, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Share {
    All,
    Half,
    Nothing,
}

impl CancellationPolicy {
    /// The notice that keeps the better refund, and the refunds with and without it.
    fn rule(self) -> (Duration, Share, Share) {
        match self {
            CancellationPolicy::Flexible => (Duration::hours(24), Share::All, Share::Half),
            CancellationPolicy::Moderate => (Duration::days(5), Share::All, Share::Half),
            CancellationPolicy::Strict => (Duration::days(7), Share::Half, Share::Nothing),
        }
    }

    /// The rental refunded when the renter cancels at `now` a stay starting at `starts`.
    /// Halves round half-up, so an odd minor unit goes to the renter.
    fn renter_refund(self, rental: i64, starts: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        let (notice, before, after) = self.rule();
        match if starts - now >= notice { before } else { after } {
            Share::All => rental,
            Share::Half => (rental + 1) / 2,
            Share::Nothing => 0,
        }
    }
}

impl CancellationPolicy {
    /// What cancelling a stay priced `quote` from `start` at `now` refunds: the owner
    /// cancelling refunds everything; the renter gets the rental per this policy, the service
    /// fee only with the whole rental. A deposit charged with the rental (bookings from before
    /// decision 0040) always comes back; a held one is released instead (`deposits`).
    pub fn refund(self, quote: &Quote, start: NaiveDate, by: Party, now: DateTime<Utc>) -> RefundPlan {
        let starts = start.and_time(NaiveTime::MIN).and_utc();
        let rental = match by {
            Party::Owner => quote.rental,
            Party::Renter => self.renter_refund(quote.rental, starts, now),
        };
        let service_fee = if rental == quote.rental { quote.service_fee } else { 0 };
        RefundPlan { rental, service_fee, deposit: quote.deposit_charged() }
    }
}

/// The refund for cancelling a paid booking at `now`, by its own policy.
pub fn refund_for_cancellation(booking: &Booking, by: Party, now: DateTime<Utc>) -> RefundPlan {
    booking.cancellation_policy.refund(&booking.quote, booking.start_date, by, now)
}

/// What `by` cancelling at `now` would refund: only a confirmed booking whose payment succeeded
/// and has not been refunded yet refunds anything (`None` otherwise).
pub fn refund_if_cancelled(booking: &Booking, by: Party, now: DateTime<Utc>) -> Option<RefundPlan> {
    let refundable = booking.status == BookingStatus::Confirmed
        && booking.payment.status == PaymentStatus::Succeeded
        && booking.payment.refund_status == RefundStatus::None;
    // Nothing to give back (a strict policy late, now that the deposit is never charged): none.
    refundable.then(|| refund_for_cancellation(booking, by, now)).filter(|plan| plan.total() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::confirmed_booking;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn nothing_to_give_back_offers_no_refund() {
        let mut b = confirmed_booking("2026-12-10", 3, 1001).unwrap();
        b.cancellation_policy = CancellationPolicy::Strict;
        assert_eq!(refund_if_cancelled(&b, Party::Renter, at("2026-12-09T00:00:00Z")), None);
        assert!(refund_if_cancelled(&b, Party::Owner, at("2026-12-09T00:00:00Z")).is_some());
    }

    /// Rental 3,003 (3 x 10.01), fee 300, deposit 5,000 (held, not charged: nothing of it to
    /// refund); the stay starts 2026-12-10.
    #[test]
    fn each_policy_at_its_boundary() {
        let full = RefundPlan { rental: 3003, service_fee: 300, deposit: 0 };
        let half = RefundPlan { rental: 1502, service_fee: 0, deposit: 0 };
        let none = RefundPlan { rental: 0, service_fee: 0, deposit: 0 };
        let cases = [
            (CancellationPolicy::Flexible, "2026-12-09T00:00:00Z", full),
            (CancellationPolicy::Flexible, "2026-12-09T00:00:01Z", half),
            (CancellationPolicy::Moderate, "2026-12-05T00:00:00Z", full),
            (CancellationPolicy::Moderate, "2026-12-05T00:00:01Z", half),
            (CancellationPolicy::Moderate, "2026-12-11T12:00:00Z", half),
            (CancellationPolicy::Strict, "2026-12-03T00:00:00Z", half),
            (CancellationPolicy::Strict, "2026-12-03T00:00:01Z", none),
        ];
        for (policy, when, expected) in cases {
            let mut b = confirmed_booking("2026-12-10", 3, 1001).unwrap();
            b.cancellation_policy = policy;
            assert_eq!(refund_for_cancellation(&b, Party::Renter, at(when)), expected, "{policy:?} at {when}");
            assert_eq!(
                refund_for_cancellation(&b, Party::Owner, at(when)),
                full,
                "an owner's cancellation refunds everything"
            );
        }
        // A booking from before decision 0040 paid its deposit with the rental: it comes back.
        let mut legacy = confirmed_booking("2026-12-10", 3, 1001).unwrap();
        legacy.quote.total += legacy.quote.deposit;
        legacy.cancellation_policy = CancellationPolicy::Strict;
        assert_eq!(
            refund_for_cancellation(&legacy, Party::Renter, at("2026-12-03T00:00:01Z")),
            RefundPlan { rental: 0, service_fee: 0, deposit: 5000 }
        );
    }
}
