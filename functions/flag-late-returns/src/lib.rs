//! Scheduled (every 15 minutes): flags items not returned by the end of their stay plus the
//! grace period (`LATE_RETURN_GRACE_HOURS`, default 2) as overdue, once each, and tells both
//! parties (`booking.return_overdue`). The late fee itself is counted at the return. Conditional
//! writes make a repeated or concurrent run harmless.

mod wiring;
pub use wiring::run;

use shared::domain::Clock;
use shared::ports::{BookingReader, BookingWriter, DueBookings};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// Whether the event may set the clock (`{"now": ...}`): tests and local runs, never prod.
    pub allow_clock_override: bool,
    pub grace: chrono::Duration,
}

pub async fn handle<S, C>(event: serde_json::Value, deps: &Deps<S, C>) -> Result<serde_json::Value, AppError>
where
    S: DueBookings + BookingReader + BookingWriter,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let (due, flagged, skipped) = shared::handover::flag_overdue(&deps.store, deps.grace, now, 100).await?;
    tracing::info!(due, flagged, skipped, now = %now, "overdue run");
    Ok(serde_json::json!({ "due": due, "flagged": flagged, "skipped": skipped }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::Transition;
    use shared::testing::{confirmed_booking, FixedClock, MemoryStore};

    #[tokio::test]
    async fn flags_items_out_past_the_grace_once() {
        let deps = Deps {
            store: MemoryStore::default(),
            clock: FixedClock::default(),
            allow_clock_override: true,
            grace: chrono::Duration::hours(2),
        };
        // Ends 2026-12-04 00:00. One picked up, one never picked up (not this task's).
        let out = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        let out = out.moved(Transition::PickUp, out.pickup_opens_at()).unwrap();
        let idle = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        deps.store.seed_booking(&out).await;
        deps.store.seed_booking(&idle).await;

        let at = |t: &str| serde_json::json!({ "now": t });
        assert_eq!(handle(at("2026-12-04T01:59:59Z"), &deps).await.unwrap()["flagged"], 0, "within the grace");
        assert_eq!(handle(at("2026-12-04T02:00:00Z"), &deps).await.unwrap()["flagged"], 1);
        assert_eq!(handle(at("2026-12-04T03:00:00Z"), &deps).await.unwrap()["due"], 0, "flagged once");
        let stored = deps.store.bookings.lock().unwrap()[&out.id].clone();
        assert_eq!(stored.handover.overdue_since.map(|t| t.to_rfc3339()).as_deref(), Some("2026-12-04T02:00:00+00:00"));
        assert_eq!(deps.store.event_kinds(), vec!["booking.requested", "booking.requested", "booking.return_overdue"]);
    }
}
