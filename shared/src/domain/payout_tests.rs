//! The payout rule under random bookings, cancellations, timings, failures and crashes, against
//! a model of Stripe that honours idempotency keys and lists a transfer group's transfers.

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
        let mut booking = confirmed_booking("2026-12-10", days, rng.i64(1..=200_000));
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
                payout.owed = payout.after_refund(booking.quote.rental, booking.quote.owner_commission_bps, &refund);
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
    let booking = confirmed_booking("2026-12-10", 2, 5_000);
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
