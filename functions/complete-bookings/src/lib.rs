//! Scheduled (hourly): completes `returned` bookings once their claim window
//! (`CLAIM_WINDOW_HOURS` after the return, default 48) has closed, and `confirmed` bookings
//! nobody picked up once their (exclusive) end date has come, releasing their days.
//! Conditional moves make a repeated or concurrent run harmless.

mod wiring;
pub use wiring::run;

use shared::domain::booking::Transition;
use shared::domain::Clock;
use shared::ports::{BookingReader, BookingWriter, Due, DueBookings};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// Whether the event may set the clock (`{"now": ...}`): tests and local runs, never prod.
    pub allow_clock_override: bool,
    /// How long after the return the owner may still claim.
    pub claim_window: chrono::Duration,
}

pub async fn handle<S, C>(event: serde_json::Value, deps: &Deps<S, C>) -> Result<serde_json::Value, AppError>
where
    S: DueBookings + BookingReader + BookingWriter,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let store = &deps.store;
    let settle = Due::Settlement { claim_window: deps.claim_window };
    let (due_returned, returned, skipped_returned) =
        shared::bookings::run_due(store, settle, Transition::Complete, now, 100).await?;
    let (due_idle, idle, skipped_idle) =
        shared::bookings::run_due(store, Due::Completion, Transition::Complete, now, 100).await?;
    let (due, moved, skipped) = (due_returned + due_idle, returned + idle, skipped_returned + skipped_idle);
    tracing::info!(due, completed = moved, returned, never_picked_up = idle, skipped, now = %now, "completion run");
    Ok(serde_json::json!({ "due": due, "completed": moved, "skipped": skipped }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::{Booking, BookingStatus, DateRange};
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::ports::Calendar;
    use shared::testing::{FixedClock, MemoryStore};

    #[tokio::test]
    async fn completes_stays_nobody_picked_up_after_their_end_date() {
        let deps = Deps {
            store: MemoryStore::default(),
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
}
