//! Scheduled (every 15 minutes): settles owners' payouts that are due: transfers the owner's
//! share `PayoutDelayHours` after the rental's start, reverses what refunds took back, and
//! marks payouts blocked while the owner's account cannot receive transfers
//! (`shared::payouts::settle`, five at a time; overlapping runs and crashes never move money
//! twice). Counts what it did, and the payouts still owed past `PayoutOverdueHours` after they
//! fell due (alarmed). Then transfers to owners what was captured of deposits (late fees,
//! settled claims; `shared::payouts::pay_owner_deposit`, decision 0044).

mod wiring;
pub use wiring::run;

use chrono::{DateTime, Duration, Utc};
use futures_util::stream::{self, StreamExt};
use shared::domain::booking::BookingId;
use shared::domain::Clock;
use shared::metrics::Unit;
use shared::payouts::Settled;
use shared::ports::{BookingReader, DepositStore, PayoutStore, ProfileStore, TransferGateway};
use shared::AppError;

/// Payouts settled per run at most; the next run takes the rest.
const BATCH: u32 = 1_000;
/// Payouts settled at once. Each waits mostly on Stripe (a transfer takes a few hundred
/// milliseconds), so 5 at once settle a full batch well within the timeout while staying under
/// Stripe's rate limit in test mode (25 requests a second; 100 live). A 429 leaves the payout
/// owed for the next run (docs/benchmarks.md, "Payouts").
const CONCURRENCY: usize = 5;
/// Default age after which an unsettled payout counts as overdue.
pub const DEFAULT_OVERDUE_HOURS: i64 = 72;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
    /// Whether the event may set the clock (`{"now": ...}`): tests and local runs, never prod.
    pub allow_clock_override: bool,
    pub overdue_after_hours: i64,
}

pub async fn handle<S, G, C>(event: serde_json::Value, deps: &Deps<S, G, C>) -> Result<serde_json::Value, AppError>
where
    S: PayoutStore + BookingReader + ProfileStore + DepositStore,
    G: TransferGateway,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let due = deps.store.due_payouts(now, BATCH).await?;
    let count = due.len();
    let outcomes: Vec<(Settled, bool)> =
        stream::iter(due).map(|id| settle_one(deps, id, now)).buffer_unordered(CONCURRENCY).collect().await;
    let mut counts = [0u32; 6];
    for (settled, _) in &outcomes {
        counts[*settled as usize] += 1;
    }
    let overdue = outcomes.iter().filter(|(_, overdue)| *overdue).count() as u32;
    let deposits = pay_owners_deposits(deps, now).await;
    let [nothing, transferred, reversed, blocked, failed, busy] = counts;
    let [_, deposits_transferred, _, deposits_blocked, deposits_failed, _] = deposits;
    shared::metrics::emit("TransfersMade", Unit::Count, f64::from(transferred + deposits_transferred), &[]);
    shared::metrics::emit("TransfersFailed", Unit::Count, f64::from(failed + deposits_failed), &[]);
    shared::metrics::emit("TransferReversals", Unit::Count, f64::from(reversed), &[]);
    shared::metrics::emit("PayoutsOverdue", Unit::Count, f64::from(overdue), &[]);
    tracing::info!(due = count, transferred, reversed, blocked, failed, busy, overdue, now = %now, "payout run");
    Ok(serde_json::json!({
        "due": count, "transferred": transferred, "reversed": reversed, "blocked": blocked,
        "failed": failed, "busy": busy, "unchanged": nothing, "overdue": overdue,
        "deposits": { "transferred": deposits_transferred, "blocked": deposits_blocked, "failed": deposits_failed },
    }))
}

/// Transfers to owners what was captured of deposits and is still theirs: counts by outcome
/// (as `Settled`). One deposit's fault never stops the others, nor the rentals' payouts.
async fn pay_owners_deposits<S, G, C>(deps: &Deps<S, G, C>, now: DateTime<Utc>) -> [u32; 6]
where
    S: DepositStore + BookingReader + ProfileStore,
    G: TransferGateway,
{
    let mut counts = [0u32; 6];
    let due = match deps.store.due_owner_transfers(now, BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::error!(error = %e.for_log(), "deposit transfers not listed; retried next run");
            counts[Settled::Failed as usize] += 1;
            return counts;
        }
    };
    let pay = |id: BookingId| async move {
        shared::payouts::pay_owner_deposit(&deps.store, &deps.gateway, &id, now).await.unwrap_or_else(|e| {
            tracing::error!(booking_id = %id, error = %e.for_log(), "deposit transfer not made");
            Settled::Failed
        })
    };
    let outcomes: Vec<Settled> = stream::iter(due).map(pay).buffer_unordered(CONCURRENCY).collect().await;
    for settled in outcomes {
        counts[settled as usize] += 1;
    }
    counts
}

/// Settles one payout: what happened, and whether it is still owed past its age. One payout's
/// fault never stops the others: logged, counted as failed, retried next run.
async fn settle_one<S, G, C>(deps: &Deps<S, G, C>, id: BookingId, now: DateTime<Utc>) -> (Settled, bool)
where
    S: PayoutStore + BookingReader + ProfileStore,
    G: TransferGateway,
{
    let settled = shared::payouts::settle(&deps.store, &deps.gateway, &id, now).await.unwrap_or_else(|e| {
        tracing::error!(booking_id = %id, error = %e.for_log(), "payout not settled");
        Settled::Failed
    });
    if !matches!(settled, Settled::Blocked | Settled::Failed) {
        return (settled, false);
    }
    match deps.store.get_payout(&id).await {
        Ok(payout) => (settled, payout.is_some_and(|p| p.due_at + Duration::hours(deps.overdue_after_hours) <= now)),
        Err(e) => {
            tracing::error!(booking_id = %id, error = %e.for_log(), "payout not read for the overdue count");
            (settled, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::{refund_for_cancellation, Party};
    use shared::domain::payout::Payout;
    use shared::domain::user::UserId;
    use shared::testing::{confirmed_booking, FakeGateway, FixedClock, MemoryStore};

    type TestDeps = Deps<MemoryStore, FakeGateway, FixedClock>;

    /// A confirmed booking from 2026-12-10 (3 days at 40.00) with its payout scheduled, due
    /// 2026-12-11T00:00Z; the owner's account ready.
    async fn scheduled() -> (TestDeps, shared::domain::booking::Booking) {
        let deps = Deps {
            store: MemoryStore::default(),
            gateway: FakeGateway::default(),
            clock: FixedClock::default(),
            allow_clock_override: true,
            overdue_after_hours: 72,
        };
        let booking = confirmed_booking("2026-12-10", 3, 4_000).unwrap();
        deps.store.seed_booking(&booking).await;
        deps.store.seed_payout_ready(&UserId::parse("owner").unwrap());
        shared::payouts::ensure_scheduled(&deps.store, &booking, Some("ch_1"), 24, deps.clock.now()).await.unwrap();
        (deps, booking)
    }

    fn at(t: &str) -> serde_json::Value {
        serde_json::json!({ "now": t })
    }

    fn payout(deps: &TestDeps, booking: &shared::domain::booking::Booking) -> Payout {
        deps.store.payouts.lock().unwrap()[&booking.id].clone()
    }

    #[tokio::test]
    async fn transfers_once_when_due_even_from_overlapping_runs() {
        let (deps, booking) = scheduled().await;
        let early = handle(at("2026-12-10T23:59:00Z"), &deps).await.unwrap();
        assert_eq!(early["due"], 0, "not due before start + 24 h");
        let (a, b) = tokio::join!(handle(at("2026-12-11T01:00:00Z"), &deps), handle(at("2026-12-11T01:00:00Z"), &deps));
        let made = a.unwrap()["transferred"].as_u64().unwrap() + b.unwrap()["transferred"].as_u64().unwrap();
        assert_eq!(made, 1);
        let transfers = deps.gateway.transfers.lock().unwrap().clone();
        assert_eq!(transfers.len(), 1, "one transfer");
        let (key, group, destination, transfer) = &transfers[0];
        assert_eq!(
            (key.as_str(), group.as_str(), destination.as_str()),
            (&*format!("payout-{}", booking.id), booking.id.as_str(), "acct_owner")
        );
        assert_eq!(transfer.amount, 11_640, "120.00 less 3% commission");
        assert_eq!(handle(at("2026-12-12T00:00:00Z"), &deps).await.unwrap()["due"], 0, "settled: out of the due list");
        assert_eq!(payout(&deps, &booking).transferred, 11_640);
    }

    #[tokio::test]
    async fn an_unrecorded_attempt_is_found_through_its_group_not_repeated() {
        let (deps, booking) = scheduled().await;
        // A run claimed it and Stripe transferred, but the run died before recording it.
        let mut p = payout(&deps, &booking);
        use shared::ports::TransferGateway;
        deps.gateway.transfer(&p, p.owed, "acct_owner", "payout-crashed-run").await.unwrap();
        p.attempts = 1;
        p.version += 1;
        deps.store.payouts.lock().unwrap().insert(booking.id.clone(), p);
        let run = handle(at("2026-12-11T01:00:00Z"), &deps).await.unwrap();
        assert_eq!(run["transferred"], 0);
        assert_eq!(deps.gateway.transfers.lock().unwrap().len(), 1, "no second transfer");
        let p = payout(&deps, &booking);
        assert_eq!((p.transfer_id.as_deref(), p.transferred), (Some("tr_1"), 11_640));
    }

    #[tokio::test]
    async fn a_refund_after_the_transfer_reverses_the_owners_part_once() {
        let (deps, mut booking) = scheduled().await;
        handle(at("2026-12-11T01:00:00Z"), &deps).await.unwrap();
        let now = deps.clock.now();
        booking.payment.refund_plan = refund_for_cancellation(&booking, Party::Owner, now);
        shared::payouts::apply_refund(&deps.store, &booking, now).await.unwrap();
        let run = handle(at("2026-12-11T02:00:00Z"), &deps).await.unwrap();
        assert_eq!(run["reversed"], 1);
        assert_eq!(handle(at("2026-12-11T03:00:00Z"), &deps).await.unwrap()["reversed"], 0, "once");
        let reversals = deps.gateway.reversals.lock().unwrap().clone();
        assert_eq!(reversals.iter().map(|r| r.2).sum::<i64>(), 11_640, "an owner's cancellation takes it all back");
        assert_eq!(payout(&deps, &booking).status(), shared::domain::payout::PayoutStatus::Reversed);
    }

    #[tokio::test]
    async fn a_disabled_account_blocks_until_enabled_and_counts_as_overdue() {
        let (deps, booking) = scheduled().await;
        let owner = UserId::parse("owner").unwrap();
        deps.store.profiles.lock().unwrap().get_mut(&owner).unwrap().payout_account.as_mut().unwrap().payouts_enabled =
            false;
        let run = handle(at("2026-12-11T01:00:00Z"), &deps).await.unwrap();
        assert_eq!((run["blocked"].as_u64(), run["overdue"].as_u64()), (Some(1), Some(0)));
        assert_eq!(payout(&deps, &booking).blocked_reason.as_deref(), Some("payouts_disabled"));
        assert_eq!(handle(at("2026-12-15T00:00:00Z"), &deps).await.unwrap()["overdue"], 1, "owed past its age");
        assert!(deps.gateway.transfers.lock().unwrap().is_empty());
        deps.store.seed_payout_ready(&owner);
        assert_eq!(handle(at("2026-12-15T01:00:00Z"), &deps).await.unwrap()["transferred"], 1);
        assert_eq!(payout(&deps, &booking).blocked_reason, None);
    }

    #[tokio::test]
    async fn a_refused_transfer_keeps_stripes_reason_and_is_retried() {
        let (deps, booking) = scheduled().await;
        let cause = "stripe refused /v1/transfers with 400 Bad Request: balance_insufficient";
        *deps.gateway.refuse_transfers.lock().unwrap() = Some(cause.into());
        let run = handle(at("2026-12-11T01:00:00Z"), &deps).await.unwrap();
        assert_eq!((run["failed"].as_u64(), run["transferred"].as_u64()), (Some(1), Some(0)));
        let p = payout(&deps, &booking);
        assert_eq!(p.attempts, 1);
        assert!(p.last_error.as_deref().is_some_and(|e| e.ends_with("balance_insufficient")), "{:?}", p.last_error);

        *deps.gateway.refuse_transfers.lock().unwrap() = None;
        assert_eq!(handle(at("2026-12-11T02:00:00Z"), &deps).await.unwrap()["transferred"], 1, "the next run");
        assert_eq!(payout(&deps, &booking).last_error, None);
    }

    #[tokio::test]
    async fn what_a_deposit_capture_took_goes_to_the_owner_once() {
        use shared::domain::deposit::Deposit;
        use shared::ports::DepositStore;
        let (deps, booking) = scheduled().await;
        let now = deps.clock.now();
        let held = Deposit::schedule(&booking, "cus_1".into(), None, 24, now).held("pi_1".into(), None, now);
        let captured = held.settled(2_500, 2_500, now).captured_by("ch_deposit".into());
        deps.store.save_deposit(&captured, None, None).await.unwrap();
        let later = |t| at(t);
        let (a, b) =
            tokio::join!(handle(later("2026-12-20T00:00:00Z"), &deps), handle(later("2026-12-20T00:00:00Z"), &deps));
        let made = a.unwrap()["deposits"]["transferred"].as_u64().unwrap()
            + b.unwrap()["deposits"]["transferred"].as_u64().unwrap();
        assert_eq!(made, 1, "overlapping runs transfer it once");
        let transfers = deps.gateway.transfers.lock().unwrap().clone();
        let deposit_transfers: Vec<_> = transfers.iter().filter(|(_, g, ..)| g.starts_with("deposit-")).collect();
        assert_eq!(deposit_transfers.len(), 1);
        let (key, _, destination, transfer) = deposit_transfers[0];
        assert_eq!(
            (key.as_str(), destination.as_str(), transfer.amount),
            (&*format!("deposit-payout-{}", booking.id), "acct_owner", 2_500)
        );
        let stored = deps.store.get_deposit(&booking.id).await.unwrap().unwrap();
        assert_eq!(stored.owner_transfer_id.as_deref(), Some(transfer.id.as_str()));
        assert!(stored.owed_to_owner().is_none());
        let again = handle(later("2026-12-21T00:00:00Z"), &deps).await.unwrap();
        assert_eq!(again["deposits"]["transferred"], 0, "paid: out of the due list");
        assert!(deps.store.event_kinds().contains(&"booking.deposit_paid_out".to_owned()));
    }
}
