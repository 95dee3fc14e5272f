//! Scheduled (every 15 minutes): takes due deposits one step along `Deposit::next_step`
//! (decision 0040): places the hold `DepositHoldLeadHours` before the start on the card the
//! rental payment saved, renews a hold 4 days old (the new one authorized before the old one
//! is cancelled), finishes a claimed call nobody recorded (a crash, a timeout) and retries a
//! step Stripe failed (a cancellation's release, say); a hold whose booking ended is released
//! at the latest when it falls due for renewal. A refused hold (declined, authentication required) flags the deposit
//! and tells both parties; the renter confirms another card (`POST /bookings/{id}/deposit`).
//! Settlement at the end of the claim window is `complete-bookings`' (the booking's due list).

mod wiring;
pub use wiring::run;

use futures_util::stream::{self, StreamExt};
use shared::deposits::{Rules, Stepped};
use shared::domain::booking::BookingId;
use shared::domain::Clock;
use shared::metrics::Unit;
use shared::ports::{BookingReader, DepositGateway, DepositStore};
use shared::AppError;

/// Deposits taken per run at most; the next run takes the rest.
const BATCH: u32 = 500;
/// Deposits taken at once: each waits mostly on Stripe (as the payout task, docs/benchmarks.md).
const CONCURRENCY: usize = 5;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
    /// Whether the event may set the clock (`{"now": ...}`): tests and local runs, never prod.
    pub allow_clock_override: bool,
    pub rules: Rules,
}

pub async fn handle<S, G, C>(event: serde_json::Value, deps: &Deps<S, G, C>) -> Result<serde_json::Value, AppError>
where
    S: DepositStore + BookingReader,
    G: DepositGateway,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let due = deps.store.due_deposits(now, BATCH).await?;
    let count = due.len();
    let outcomes: Vec<Stepped> =
        stream::iter(due).map(|id| step_one(deps, id, now)).buffer_unordered(CONCURRENCY).collect().await;
    let count_of = |s: Stepped| outcomes.iter().filter(|o| **o == s).count();
    let (held, refused, released, failed) =
        (count_of(Stepped::Held), count_of(Stepped::Refused), count_of(Stepped::Released), count_of(Stepped::Failed));
    shared::metrics::emit("DepositHoldsRefused", Unit::Count, refused as f64, &[]);
    shared::metrics::emit("DepositStepsFailed", Unit::Count, failed as f64, &[]);
    tracing::info!(due = count, held, refused, released, failed, now = %now, "deposit run");
    Ok(serde_json::json!({
        "due": count, "held": held, "refused": refused, "released": released, "failed": failed,
        "busy": count_of(Stepped::Busy),
    }))
}

/// One deposit's step. One deposit's fault never stops the others: logged, counted as
/// failed, retried next run.
async fn step_one<S, G, C>(deps: &Deps<S, G, C>, id: BookingId, now: chrono::DateTime<chrono::Utc>) -> Stepped
where
    S: DepositStore + BookingReader,
    G: DepositGateway,
{
    let booking = match deps.store.get_booking(&id).await {
        Ok(Some(booking)) => booking,
        Ok(None) => return Stepped::NoDeposit,
        Err(e) => {
            tracing::error!(booking_id = %id, error = %e.for_log(), "booking not read for its deposit");
            return Stepped::Failed;
        }
    };
    shared::deposits::advance(&deps.store, &deps.gateway, &booking, deps.rules.claim_window, now).await.unwrap_or_else(
        |e| {
            tracing::error!(booking_id = %id, error = %e.for_log(), "deposit step not taken");
            Stepped::Failed
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::{Booking, BookingStatus, Transition};
    use shared::testing::{confirmed_booking, FakeGateway, FixedClock, MemoryStore};

    type TestDeps = Deps<MemoryStore, FakeGateway, FixedClock>;

    /// A confirmed stay of 10 days from 2026-12-10 (its deposit 50.00 scheduled, held from
    /// 2026-12-09T00:00Z).
    async fn scheduled() -> (TestDeps, Booking) {
        let deps = Deps {
            store: MemoryStore::default(),
            gateway: FakeGateway::default(),
            clock: FixedClock::default(),
            allow_clock_override: true,
            rules: Rules { lead_hours: 24, claim_window: chrono::Duration::hours(48) },
        };
        let booking = confirmed_booking("2026-12-10", 10, 4_000).unwrap();
        deps.store.seed_booking(&booking).await;
        shared::deposits::ensure_scheduled(&deps.store, &booking, Some("cus_1"), Some("pm_1"), 24, booking.created_at)
            .await
            .unwrap();
        (deps, booking)
    }

    fn at(t: &str) -> serde_json::Value {
        serde_json::json!({ "now": t })
    }

    #[tokio::test]
    async fn holds_once_then_renews_before_the_lapse_new_first() {
        let (deps, booking) = scheduled().await;
        assert_eq!(handle(at("2026-12-08T23:59:00Z"), &deps).await.unwrap()["due"], 0, "not before the lead");
        let (a, b) = tokio::join!(handle(at("2026-12-09T00:00:00Z"), &deps), handle(at("2026-12-09T00:00:00Z"), &deps));
        assert_eq!(a.unwrap()["held"].as_u64().unwrap() + b.unwrap()["held"].as_u64().unwrap(), 1);
        assert_eq!(deps.gateway.hold_states(), vec!["held"], "one hold from overlapping runs");
        assert_eq!(deps.store.event_kinds().last().map(String::as_str), Some("booking.deposit_held"));
        // Picked up; 4 days after its authorization the hold is renewed (merchant-initiated
        // Visa authorizations lapse after 5).
        let out = booking.moved(Transition::PickUp, booking.pickup_opens_at()).unwrap();
        deps.store.bookings.lock().unwrap().insert(booking.id.clone(), out);
        assert_eq!(handle(at("2026-12-12T23:59:00Z"), &deps).await.unwrap()["due"], 0);
        let run = handle(at("2026-12-13T00:00:00Z"), &deps).await.unwrap();
        assert_eq!(run["held"], 1);
        assert_eq!(deps.gateway.hold_states(), vec!["released", "held"], "the new hold, then the old one cancelled");
        let d = deps.store.deposits.lock().unwrap()[&booking.id].clone();
        assert_eq!((d.hold.unwrap().intent_id.as_str(), d.replaced_intent, d.holds_placed), ("pi_hold_2", None, 2));
        let kinds = deps.store.event_kinds();
        assert_eq!(kinds.iter().filter(|k| *k == "booking.deposit_held").count(), 1, "a renewal announces nothing");
    }

    #[tokio::test]
    async fn a_refused_hold_tells_both_and_waits_for_the_renter() {
        let (deps, booking) = scheduled().await;
        *deps.gateway.refuse_holds.lock().unwrap() = Some("authentication_required".into());
        let run = handle(at("2026-12-09T00:00:00Z"), &deps).await.unwrap();
        assert_eq!(run["refused"], 1);
        let d = deps.store.deposits.lock().unwrap()[&booking.id].clone();
        assert_eq!(d.failure_code.as_deref(), Some("authentication_required"));
        assert_eq!(deps.store.event_kinds().last().map(String::as_str), Some("booking.deposit_failed"));
        assert_eq!(handle(at("2026-12-09T01:00:00Z"), &deps).await.unwrap()["due"], 0, "not retried off-session");
    }

    #[tokio::test]
    async fn a_cancelled_booking_releases_its_hold_when_its_own_release_failed() {
        let (deps, booking) = scheduled().await;
        handle(at("2026-12-09T00:00:00Z"), &deps).await.unwrap();
        let mut cancelled = booking.clone();
        cancelled.status = BookingStatus::Cancelled;
        deps.store.bookings.lock().unwrap().insert(booking.id.clone(), cancelled);
        // The cancellation's release failed: recorded, so the deposit is due at once.
        let mut d = deps.store.deposits.lock().unwrap()[&booking.id].clone();
        d.last_error = Some("stripe unavailable".into());
        deps.store.deposits.lock().unwrap().insert(booking.id.clone(), d);
        let run = handle(at("2026-12-09T01:00:00Z"), &deps).await.unwrap();
        assert_eq!(run["released"], 1);
        assert_eq!(deps.gateway.hold_states(), vec!["released"]);
        assert_eq!(handle(at("2026-12-09T02:00:00Z"), &deps).await.unwrap()["due"], 0, "settled: once");
    }
}
