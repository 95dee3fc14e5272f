//! Scheduled: expires holds past their deadline (`requested` after 24 h, `pending_payment`
//! after 30 min), releasing their days in the same transaction. Safe to run twice at once and
//! against a payment confirming at the same moment: every move is conditional on the status
//! and version read, so exactly one of the racers wins and the other sees the new state.

use shared::domain::booking::Transition;
use shared::domain::Clock;
use shared::ports::{BookingReader, BookingWriter, Due, DueBookings, EventPublisher};
use shared::AppError;

pub struct Deps<S, P, C> {
    pub store: S,
    pub events: P,
    pub clock: C,
    /// Whether the event may set the clock (`{"now": ...}`): tests and local runs, never prod.
    pub allow_clock_override: bool,
}

/// Bookings looked at per run; the next run takes the rest.
pub const BATCH: u32 = 100;

pub async fn handle<S, P, C>(event: serde_json::Value, deps: &Deps<S, P, C>) -> Result<serde_json::Value, AppError>
where
    S: DueBookings + BookingReader + BookingWriter,
    P: EventPublisher,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let due = deps.store.due(Due::HoldExpiry, now, BATCH).await?;
    let (mut expired, mut skipped) = (0, 0);
    for id in &due {
        // Another run, the owner or a payment may have moved it since the index was read:
        // then the state machine refuses (409) and there is nothing left to do.
        match shared::bookings::move_booking(&deps.store, &deps.events, id, Transition::Expire, now, None, |_| {}).await {
            Ok(_) => expired += 1,
            Err(AppError::Conflict { .. } | AppError::NotFound(_)) => skipped += 1,
            Err(e) => return Err(e),
        }
    }
    tracing::info!(due = due.len(), expired, skipped, now = %now, "hold expiry run");
    shared::metrics::emit("BookingsExpired", shared::metrics::Unit::Count, f64::from(expired), &[]);
    Ok(serde_json::json!({ "due": due.len(), "expired": expired, "skipped": skipped }))
}
