//! Owners' money (separate charges and transfers, decision 0030): the platform charges the
//! renter; the owner's share of the rental is transferred to their connected account a delay
//! after the start, and reversed in the part a later refund gives back. A booking's `Payout`
//! records what is owed and what moved; `next_step` is the one rule the payout task follows.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;

use super::booking::{Booking, BookingId, RefundPlan};
use super::money::Currency;
use super::user::UserId;

/// Default owner commission: 3% of the rental.
pub const DEFAULT_OWNER_COMMISSION_BPS: i64 = 300;
/// Default delay between a rental's start (00:00 UTC) and its owner's transfer.
pub const DEFAULT_PAYOUT_DELAY_HOURS: i64 = 24;

/// `amount x bps / 10,000`, rounded half-up in the minor unit (amounts are never negative).
pub fn basis_points(amount: i64, bps: i64) -> i64 {
    let product = i128::from(amount) * i128::from(bps);
    i64::try_from((product + 5_000) / 10_000).unwrap_or(i64::MAX)
}

/// The owner's share of a rental: the rental less the commission. Never decreases when the
/// rental grows, so a smaller kept rental never owes the owner more.
pub fn owner_share(rental: i64, commission_bps: i64) -> i64 {
    rental - basis_points(rental, commission_bps)
}

string_enum!(
    /// Where an owner's money for one booking stands.
    PayoutStatus {
        /// Owed, to be transferred at `due_at`.
        Scheduled => "scheduled",
        /// Owed and due, but the owner's account cannot receive it (`blocked_reason`).
        Blocked => "blocked",
        Transferred => "transferred",
        PartiallyReversed => "partially_reversed",
        Reversed => "reversed",
        /// Nothing was owed (a full refund before any transfer).
        Cancelled => "cancelled",
    }
);

/// The owner's money for one booking: created when its payment is confirmed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payout {
    pub booking_id: BookingId,
    pub owner_id: UserId,
    pub currency: Currency,
    /// The charge the transfer draws on (`source_transaction`).
    pub charge_id: String,
    pub due_at: DateTime<Utc>,
    /// The rental the platform keeps (less any refund of it), and the commission rate on it.
    pub rental: i64,
    pub commission_bps: i64,
    /// What the owner is owed as the booking stands: their share of the rental kept.
    pub owed: i64,
    pub transfer_id: Option<String>,
    pub transferred: i64,
    pub reversal_id: Option<String>,
    pub reversed: i64,
    pub blocked_reason: Option<String>,
    /// Failed transfer attempts since the last success, and the last error.
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// What the payout task does next for one payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutStep {
    /// Nothing yet (not due) or nothing any more (settled).
    Nothing,
    Transfer(i64),
    Reverse(i64),
    /// Due, but the owner's account cannot receive transfers.
    Block(&'static str),
}

/// What the task knows of the owner's connected account when it looks at a payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    Ready(&'a str),
    NoAccount,
    Disabled,
}

impl Payout {
    /// The payout of a booking whose payment `charge_id` just confirmed.
    pub fn schedule(booking: &Booking, charge_id: String, delay_hours: i64, now: DateTime<Utc>) -> Self {
        let starts = booking.start_date.and_time(NaiveTime::MIN).and_utc();
        Payout {
            booking_id: booking.id.clone(),
            owner_id: booking.owner_id.clone(),
            currency: booking.quote.currency,
            charge_id,
            due_at: starts + Duration::hours(delay_hours),
            rental: booking.quote.rental,
            commission_bps: booking.quote.owner_commission_bps,
            owed: owner_share(booking.quote.rental, booking.quote.owner_commission_bps),
            transfer_id: None,
            transferred: 0,
            reversal_id: None,
            reversed: 0,
            blocked_reason: None,
            attempts: 0,
            last_error: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// After `refund` of a booking whose rental was `booked_rental`: the owner is owed their
    /// share of the rental kept, never more than before. Repeating it changes nothing.
    pub fn refunded(&self, booked_rental: i64, refund: &RefundPlan) -> Payout {
        let rental = (booked_rental - refund.rental).min(self.rental);
        Payout { rental, owed: owner_share(rental, self.commission_bps).min(self.owed), ..self.clone() }
    }

    /// The commission the platform keeps on the rental kept.
    pub fn commission(&self) -> i64 {
        self.rental - owner_share(self.rental, self.commission_bps)
    }

    /// Whether the task still has work here (the due index keeps the payout while it has).
    pub fn open(&self) -> bool {
        (self.transfer_id.is_none() && self.owed > 0) || self.transferred - self.reversed > self.owed
    }

    pub fn status(&self) -> PayoutStatus {
        match (self.transferred, self.reversed) {
            (0, _) if self.owed == 0 => PayoutStatus::Cancelled,
            (0, _) if self.blocked_reason.is_some() => PayoutStatus::Blocked,
            (0, _) => PayoutStatus::Scheduled,
            (t, r) if r >= t => PayoutStatus::Reversed,
            (_, r) if r > 0 => PayoutStatus::PartiallyReversed,
            _ => PayoutStatus::Transferred,
        }
    }

    /// The one rule: transfer what is owed once it is due (and the account can take it);
    /// reverse what was transferred beyond what is owed; otherwise nothing. A reversal never
    /// exceeds its transfer, and a payout is transferred at most once.
    pub fn next_step(&self, now: DateTime<Utc>, destination: Destination<'_>) -> PayoutStep {
        let net = self.transferred - self.reversed;
        if self.transfer_id.is_some() {
            return if net > self.owed { PayoutStep::Reverse(net - self.owed) } else { PayoutStep::Nothing };
        }
        if self.owed == 0 || now < self.due_at {
            return PayoutStep::Nothing;
        }
        match destination {
            Destination::Ready(_) => PayoutStep::Transfer(self.owed),
            Destination::NoAccount => PayoutStep::Block("no_payout_account"),
            Destination::Disabled => PayoutStep::Block("payouts_disabled"),
        }
    }
}

/// A booking's money at a glance: what the renter paid and got back, what the owner nets and
/// what moved to them, what the platform keeps, and the deposit. It always balances:
/// `paid = owner_net + platform_revenue + refunded + deposit_held`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ledger {
    pub currency: Currency,
    pub paid: i64,
    pub refunded: i64,
    pub owner_gross: i64,
    pub commission: i64,
    pub owner_net: i64,
    pub service_fee_kept: i64,
    pub platform_revenue: i64,
    pub deposit_held: i64,
    pub transferred: i64,
    pub reversed: i64,
}

impl Ledger {
    /// The ledger of a booking paid in full (`paid`) with `refund` given back so far.
    pub fn of(booking: &Booking, refund: &RefundPlan, payout: Option<&Payout>) -> Self {
        let q = &booking.quote;
        let kept_rental = q.rental - refund.rental;
        let owner_net = owner_share(kept_rental, q.owner_commission_bps);
        let commission = kept_rental - owner_net;
        let service_fee_kept = q.service_fee - refund.service_fee;
        Ledger {
            currency: q.currency,
            paid: q.total,
            refunded: refund.total(),
            owner_gross: kept_rental,
            commission,
            owner_net,
            service_fee_kept,
            platform_revenue: commission + service_fee_kept,
            deposit_held: q.deposit_charged() - refund.deposit,
            transferred: payout.map_or(0, |p| p.transferred),
            reversed: payout.map_or(0, |p| p.reversed),
        }
    }
}

#[cfg(test)]
mod tests {
    // The payout rule under random bookings, cancellations, timings, failures and crashes, against
    // a model of Stripe that honours idempotency keys and lists a transfer group's transfers.

    use super::*;
    use crate::domain::booking::{refund_for_cancellation, CancellationPolicy, Party};
    use crate::testing::confirmed_booking;

    /// What Stripe holds of one booking's transfer and reversals.
    #[derive(Default)]
    struct Stripe {
        transfer: Option<(String, i64)>,
        reversed: i64,
        refunded: i64,
    }

    #[test]
    fn money_always_balances_and_moves_once() {
        let mut rng = fastrand::Rng::with_seed(0x5eed_0030);
        for case in 0..20_000 {
            let days = rng.i64(1..=30);
            let mut booking = confirmed_booking("2026-12-10", days, rng.i64(1..=200_000)).unwrap();
            booking.quote.owner_commission_bps = rng.i64(0..=3_000);
            booking.quote.service_fee_bps = rng.i64(0..=3_000);
            booking.quote.service_fee = basis_points(booking.quote.rental, booking.quote.service_fee_bps);
            booking.quote.deposit = rng.i64(0..=100_000);
            booking.quote.total = booking.quote.rental + booking.quote.service_fee + booking.quote.deposit;
            booking.cancellation_policy = CancellationPolicy::ALL[rng.usize(0..3)];
            let paid_at = booking.start_date.and_time(NaiveTime::MIN).and_utc() - Duration::hours(rng.i64(1..=400));
            let mut payout = Payout::schedule(&booking, "ch_1".into(), 24, paid_at);
            let mut refund = RefundPlan::default();
            let mut stripe = Stripe::default();
            // Runs of the payout task, and maybe one cancellation, at random hours around the stay.
            let mut moments: Vec<(i64, bool)> = (0..rng.usize(1..8)).map(|_| (rng.i64(0..=800), false)).collect();
            if rng.bool() {
                moments.push((rng.i64(0..=800), true));
            }
            moments.sort();
            for (hours, is_cancel) in moments {
                let now = paid_at + Duration::hours(hours);
                if is_cancel {
                    let by = if rng.bool() { Party::Owner } else { Party::Renter };
                    refund = refund_for_cancellation(&booking, by, now);
                    stripe.refunded += refund.total();
                    payout = payout.refunded(booking.quote.rental, &refund);
                    continue;
                }
                let destination = if rng.u8(0..4) == 0 { Destination::Disabled } else { Destination::Ready("acct_1") };
                match payout.next_step(now, destination) {
                    PayoutStep::Transfer(amount) => {
                        // Stripe may fail; the task may crash after Stripe answered (the next run
                        // then finds the transfer through its group instead of making another).
                        if rng.u8(0..5) == 0 {
                            payout.attempts += 1;
                            continue;
                        }
                        let made = stripe.transfer.get_or_insert_with(|| ("tr_1".into(), amount)).clone();
                        if rng.u8(0..5) == 0 {
                            continue;
                        }
                        payout.transfer_id = Some(made.0);
                        payout.transferred = made.1;
                    }
                    PayoutStep::Reverse(amount) => {
                        assert!(stripe.reversed + amount <= stripe.transfer.as_ref().unwrap().1, "case {case}");
                        stripe.reversed += amount;
                        payout.reversed += amount;
                    }
                    PayoutStep::Block(_) | PayoutStep::Nothing => {}
                }
                if stripe.transfer.is_some() && payout.transfer_id.is_none() {
                    // The crashed run's successor records the transfer it finds.
                    let (id, amount) = stripe.transfer.clone().unwrap();
                    payout.transfer_id = Some(id);
                    payout.transferred = amount;
                }
            }
            // Drain: runs long after everything, with the account ready, settle every payout.
            for _ in 0..3 {
                let later = paid_at + Duration::days(60);
                match payout.next_step(later, Destination::Ready("acct_1")) {
                    PayoutStep::Transfer(amount) => {
                        stripe.transfer = Some(("tr_1".into(), amount));
                        payout.transfer_id = Some("tr_1".into());
                        payout.transferred = amount;
                    }
                    PayoutStep::Reverse(amount) => {
                        stripe.reversed += amount;
                        payout.reversed += amount;
                    }
                    _ => {}
                }
            }
            let ledger = Ledger::of(&booking, &refund, Some(&payout));
            assert!(!payout.open(), "case {case}: settled");
            assert_eq!(
                ledger.paid,
                ledger.owner_net + ledger.platform_revenue + ledger.refunded + ledger.deposit_held,
                "case {case}: the ledger balances"
            );
            assert_eq!(ledger.transferred - ledger.reversed, ledger.owner_net, "case {case}: the owner got their net");
            assert!(ledger.reversed <= ledger.transferred, "case {case}");
            assert!(stripe.refunded <= ledger.paid, "case {case}: no refund exceeds what was paid");
            assert!(ledger.commission >= 0 && ledger.owner_net >= 0 && ledger.service_fee_kept >= 0, "case {case}");
        }
    }

    #[test]
    fn commission_rounds_half_up_in_the_minor_unit() {
        assert_eq!(basis_points(3005, 300), 90, "90.15 -> 90");
        assert_eq!(basis_points(50, 300), 2, "1.5 -> 2");
        assert_eq!(basis_points(49, 300), 1, "1.47 -> 1");
        assert_eq!(owner_share(10_000, 300), 9_700);
        assert_eq!(basis_points(i64::MAX, 10_000), i64::MAX, "no overflow");
    }

    #[test]
    fn statuses_follow_the_money() {
        let booking = confirmed_booking("2026-12-10", 2, 5_000).unwrap();
        let now = Utc::now();
        let mut p = Payout::schedule(&booking, "ch_1".into(), 24, now);
        assert_eq!((p.status(), p.owed), (PayoutStatus::Scheduled, 9_700));
        assert_eq!(p.next_step(p.due_at - Duration::seconds(1), Destination::Ready("a")), PayoutStep::Nothing);
        assert_eq!(p.next_step(p.due_at, Destination::Ready("a")), PayoutStep::Transfer(9_700));
        assert_eq!(p.next_step(p.due_at, Destination::NoAccount), PayoutStep::Block("no_payout_account"));
        p.blocked_reason = Some("payouts_disabled".into());
        assert_eq!(p.status(), PayoutStatus::Blocked);
        p.blocked_reason = None;
        (p.transfer_id, p.transferred) = (Some("tr_1".into()), 9_700);
        assert_eq!((p.status(), p.open()), (PayoutStatus::Transferred, false));
        p.owed = 4_850;
        assert_eq!(p.next_step(now, Destination::Disabled), PayoutStep::Reverse(4_850), "reversals need no account");
        p.reversed = 4_850;
        assert_eq!((p.status(), p.open()), (PayoutStatus::PartiallyReversed, false));
        p.reversed = 9_700;
        assert_eq!(p.status(), PayoutStatus::Reversed);
    }
}
