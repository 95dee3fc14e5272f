//! Scheduled: expires holds past their deadline (`requested` after 24 h, `pending_payment`
//! after 30 min), releasing their days in the same transaction. Safe to run twice at once and
//! against a payment confirming at the same moment: every move is conditional on the status
//! and version read, so exactly one of the racers wins and the other sees the new state.

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
}

/// Bookings looked at per run; the next run takes the rest.
pub const BATCH: u32 = 100;

pub async fn handle<S, C>(event: serde_json::Value, deps: &Deps<S, C>) -> Result<serde_json::Value, AppError>
where
    S: DueBookings + BookingReader + BookingWriter,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let (due, moved, skipped) =
        shared::bookings::run_due(&deps.store, Due::HoldExpiry, Transition::Expire, now, BATCH).await?;
    tracing::info!(due, expired = moved, skipped, now = %now, "hold expiry run");
    shared::metrics::emit("BookingsExpired", shared::metrics::Unit::Count, moved as f64, &[]);
    Ok(serde_json::json!({ "due": due, "expired": moved, "skipped": skipped }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use shared::domain::booking::{Booking, BookingStatus, DateRange};
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::ports::Calendar;
    use shared::testing::{FixedClock, MemoryStore};

    #[tokio::test]
    async fn expires_lapsed_holds_once_and_frees_their_days() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default(), allow_clock_override: true };
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

        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/expire-holds.json")).unwrap();
        assert_eq!(handle(fixture, &deps).await.unwrap()["expired"], 0, "the real clock: nothing lapsed");
        let at = |mins: i64| serde_json::json!({ "now": (deps.clock.now() + Duration::minutes(mins)).to_rfc3339() });
        assert_eq!(handle(at(29), &deps).await.unwrap()["expired"], 0);
        assert_eq!(handle(at(31), &deps).await.unwrap()["expired"], 1);
        assert_eq!(handle(at(32), &deps).await.unwrap()["expired"], 0, "a second run finds nothing");
        assert_eq!(deps.store.bookings.lock().unwrap()[&booking.id].status, BookingStatus::Expired);
        assert!(deps.store.unavailable_days(&listing.id, &range).await.unwrap().is_empty());
        assert_eq!(deps.store.event_kinds(), vec!["booking.requested", "booking.expired"]);

        let later = at(600);
        assert_eq!(
            shared::scheduled::run_time(&later, &deps.clock, false).unwrap(),
            deps.clock.now(),
            "prod ignores the event's clock"
        );
    }
}
