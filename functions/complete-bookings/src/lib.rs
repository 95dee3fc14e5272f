//! Scheduled (hourly): completes `returned` bookings once their claim window
//! (`CLAIM_WINDOW_HOURS` after the return, default 48) has closed, and `confirmed` bookings
//! nobody picked up once their (exclusive) end date has come, releasing their days. A booking
//! completes only once its deposit is settled (decision 0040): this run settles it first,
//! capturing late fees from the hold (never more than it) and releasing the rest; a deposit
//! Stripe could not settle now waits for the next run, retried meanwhile by `hold-deposits`;
//! bookings waiting on their deposit (an open claim) are read past, not counted in the batch.
//! Idempotency keys and conditional writes make a repeated or concurrent run harmless.

mod wiring;
pub use wiring::run;

use shared::deposits::Stepped;
use shared::domain::booking::Transition;
use shared::domain::Clock;
use shared::ports::{BookingReader, BookingWriter, DepositGateway, DepositStore, Due, DueBookings};
use shared::AppError;

/// Bookings completed (or found moved) per list and run at most; the next run takes the rest.
const BATCH: usize = 100;
/// Due bookings read per list and run: the batch, and the ones waiting on their deposit ahead
/// of it (keys only: one page of the index).
const READ_PAST: u32 = 1_000;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
    /// Whether the event may set the clock (`{"now": ...}`): tests and local runs, never prod.
    pub allow_clock_override: bool,
    /// How long after the return the owner may still claim.
    pub claim_window: chrono::Duration,
}

pub async fn handle<S, G, C>(event: serde_json::Value, deps: &Deps<S, G, C>) -> Result<serde_json::Value, AppError>
where
    S: DueBookings + BookingReader + BookingWriter + DepositStore,
    G: DepositGateway,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let store = &deps.store;
    let (mut due, mut completed, mut waiting, mut skipped) = (0, 0, 0, 0);
    for what in [Due::Settlement { claim_window: deps.claim_window }, Due::Completion] {
        // Bookings waiting on their deposit (an open claim keeps it for days) stay at the head
        // of the due list: read well past them, and spend the run's budget on the rest.
        let ids = store.due(what, now, READ_PAST).await?;
        due += ids.len();
        let mut acted = 0;
        for id in &ids {
            if acted >= BATCH {
                break;
            }
            let Some(booking) = store.get_booking(id).await? else { continue };
            let settled =
                match shared::deposits::advance(store, &deps.gateway, &booking, deps.claim_window, now).await? {
                    Stepped::Failed | Stepped::Busy => false,
                    _ => shared::deposits::settled(store, id).await?,
                };
            if !settled {
                waiting += 1;
                continue;
            }
            acted += 1;
            let complete = |current: &shared::domain::booking::Booking| {
                Ok((current.moved(Transition::Complete, now)?, Transition::Complete.event_kind()))
            };
            match shared::bookings::change_booking(store, id, now, None, complete).await {
                Ok(_) => completed += 1,
                // Moved meanwhile (another run completed it): nothing to do.
                Err(AppError::Conflict { .. } | AppError::NotFound(_)) => skipped += 1,
                Err(e) => return Err(e),
            }
        }
    }
    tracing::info!(due, completed, waiting_for_deposit = waiting, skipped, now = %now, "completion run");
    Ok(serde_json::json!({ "due": due, "completed": completed, "waiting": waiting, "skipped": skipped }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::{Booking, BookingStatus, DateRange};
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::ports::Calendar;
    use shared::testing::{FakeGateway, FixedClock, MemoryStore};

    #[tokio::test]
    async fn completes_stays_nobody_picked_up_after_their_end_date() {
        let deps = Deps {
            store: MemoryStore::default(),
            gateway: FakeGateway::default(),
            clock: FixedClock::default(),
            allow_clock_override: true,
            claim_window: chrono::Duration::hours(48),
        };
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body: serde_json::Value = serde_json::from_str(fixture["body"].as_str().unwrap()).unwrap();
        let listing =
            Listing::create(serde_json::from_value(body).unwrap(), UserId::parse("owner").unwrap(), deps.clock.now())
                .unwrap();
        let range = DateRange::parse("2026-12-01", "2026-12-04").unwrap();
        let booking = Booking::request(
            &listing,
            UserId::parse("renter").unwrap(),
            range,
            None,
            deps.clock.now(),
            Default::default(),
        )
        .unwrap();
        deps.store.seed_booking(&booking).await;
        let pending = shared::bookings::confirm_payment(&deps.store, &booking.id, deps.clock.now()).await.unwrap();
        assert_eq!(pending.status, BookingStatus::Confirmed);

        let at = |day: &str| serde_json::json!({ "now": format!("{day}T00:00:00Z") });
        assert_eq!(handle(at("2026-12-03"), &deps).await.unwrap()["completed"], 0, "still renting");
        assert_eq!(handle(at("2026-12-04"), &deps).await.unwrap()["completed"], 1, "the end date came");
        assert_eq!(handle(at("2026-12-05"), &deps).await.unwrap()["completed"], 0);
        assert_eq!(deps.store.bookings.lock().unwrap()[&booking.id].status, BookingStatus::Completed);
        assert!(
            deps.store.unavailable_days(&listing.id, &range).await.unwrap().is_empty(),
            "completed bookings hold no days"
        );
        assert_eq!(deps.store.event_kinds(), vec!["booking.requested", "booking.confirmed", "booking.completed"]);
    }

    #[tokio::test]
    async fn completes_returned_stays_once_the_claim_window_closed() {
        let deps = Deps {
            store: MemoryStore::default(),
            gateway: FakeGateway::default(),
            clock: FixedClock::default(),
            allow_clock_override: true,
            claim_window: chrono::Duration::hours(48),
        };
        let b = shared::testing::confirmed_booking("2026-12-01", 3, 1000).unwrap();
        let out = b.moved(Transition::PickUp, b.pickup_opens_at()).unwrap();
        let returned_at = chrono::DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z").unwrap().to_utc();
        let mut back = out.moved(Transition::Return, returned_at).unwrap();
        back.handover.returned_at = Some(returned_at);
        deps.store.seed_booking(&back).await;

        let at = |t: &str| serde_json::json!({ "now": t });
        assert_eq!(handle(at("2026-12-05T09:59:59Z"), &deps).await.unwrap()["completed"], 0, "the window is open");
        assert_eq!(handle(at("2026-12-05T10:00:00Z"), &deps).await.unwrap()["completed"], 1);
        assert_eq!(handle(at("2026-12-05T11:00:00Z"), &deps).await.unwrap()["due"], 0);
        assert_eq!(deps.store.bookings.lock().unwrap()[&b.id].status, BookingStatus::Completed);
        assert_eq!(deps.store.event_kinds().last().map(String::as_str), Some("booking.completed"));
    }

    #[tokio::test]
    async fn settles_the_deposit_before_completing_and_waits_when_stripe_cannot() {
        use shared::deposits::{ensure_scheduled, Rules};
        use shared::ports::DepositStore;
        let deps = Deps {
            store: MemoryStore::default(),
            gateway: FakeGateway::default(),
            clock: FixedClock::default(),
            allow_clock_override: true,
            claim_window: chrono::Duration::hours(48),
        };
        let b = shared::testing::confirmed_booking("2026-12-01", 3, 1000).unwrap();
        let rules = Rules { lead_hours: 24, claim_window: deps.claim_window };
        let d = ensure_scheduled(&deps.store, &b, Some("cus_1"), Some("pm_1"), rules.lead_hours, b.created_at)
            .await
            .unwrap()
            .unwrap();
        let placed = d.hold_at;
        shared::deposits::advance(&deps.store, &deps.gateway, &b, rules.claim_window, placed).await.unwrap();
        assert_eq!(deps.gateway.hold_states(), vec!["held"]);
        // Back a day and a bit late: two started days at 1,000 each.
        let out = b.moved(Transition::PickUp, b.pickup_opens_at()).unwrap();
        let returned_at = chrono::DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z").unwrap().to_utc();
        let mut back = out.moved(Transition::Return, returned_at).unwrap();
        (back.handover.returned_at, back.handover.late_fee) = (Some(returned_at), 2000);
        deps.store.seed_booking(&back).await;

        let at = |t: &str| serde_json::json!({ "now": t });
        *deps.gateway.holds_unavailable.lock().unwrap() = true;
        let run = handle(at("2026-12-07T10:00:00Z"), &deps).await.unwrap();
        assert_eq!((run["completed"].as_i64(), run["waiting"].as_i64()), (Some(0), Some(1)), "Stripe is down: wait");
        let d = deps.store.get_deposit(&b.id).await.unwrap().unwrap();
        assert!(d.last_error.is_some() && d.claim.is_some(), "the capture claimed, to be made again: {d:?}");
        *deps.gateway.holds_unavailable.lock().unwrap() = false;
        let run = handle(at("2026-12-07T11:00:00Z"), &deps).await.unwrap();
        assert_eq!(run["completed"], 1);
        assert_eq!(deps.gateway.hold_states(), vec!["captured 2000"], "the late fee from the hold, the rest released");
        let kinds = deps.store.event_kinds();
        assert_eq!(kinds[kinds.len() - 2..], ["booking.deposit_captured", "booking.completed"]);
        assert_eq!(handle(at("2026-12-07T12:00:00Z"), &deps).await.unwrap()["due"], 0, "once");
    }

    #[tokio::test]
    async fn bookings_waiting_on_a_claim_take_none_of_the_runs_budget() {
        use shared::domain::deposit::Damage;
        use shared::ports::DepositStore;
        let deps = Deps {
            store: MemoryStore::default(),
            gateway: FakeGateway::default(),
            clock: FixedClock::default(),
            allow_clock_override: true,
            claim_window: chrono::Duration::hours(48),
        };
        let returned = deps.clock.now();
        // More bookings than a run completes, each kept by an open claim, and one that is not.
        for _ in 0..BATCH + 1 {
            let (b, deposit) = shared::testing::claimable(&deps.store, returned).await.unwrap();
            let open = Damage { claim_id: shared::domain::claim::ClaimId::generate(), owed: None };
            let claimed = deposit.with_damage(open, returned);
            deps.store.save_deposit(&claimed, Some(deposit.version), None).await.unwrap();
            assert_eq!(b.status, BookingStatus::Returned);
        }
        let free = shared::testing::returned_booking("2026-12-01", returned).unwrap();
        deps.store.seed_booking(&free).await;
        let after = serde_json::json!({ "now": (returned + chrono::Duration::hours(49)).to_rfc3339() });
        let run = handle(after, &deps).await.unwrap();
        assert_eq!((run["completed"].as_u64(), run["waiting"].as_u64()), (Some(1), Some(BATCH as u64 + 1)), "{run}");
        assert_eq!(deps.store.bookings.lock().unwrap()[&free.id].status, BookingStatus::Completed);
    }
}
