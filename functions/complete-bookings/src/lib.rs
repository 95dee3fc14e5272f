//! Scheduled: marks `confirmed` bookings `completed` once their (exclusive) end date has
//! come, releasing their days. Conditional moves make a repeated or concurrent run harmless.

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

pub async fn handle<S, P, C>(event: serde_json::Value, deps: &Deps<S, P, C>) -> Result<serde_json::Value, AppError>
where
    S: DueBookings + BookingReader + BookingWriter,
    P: EventPublisher,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let due = deps.store.due(Due::Completion, now, 100).await?;
    let (mut completed, mut skipped) = (0, 0);
    for id in &due {
        match shared::bookings::move_booking(&deps.store, &deps.events, id, Transition::Complete, now, None, |_| {}).await {
            Ok(_) => completed += 1,
            Err(AppError::Conflict { .. } | AppError::NotFound(_)) => skipped += 1,
            Err(e) => return Err(e),
        }
    }
    tracing::info!(due = due.len(), completed, skipped, "completion run");
    Ok(serde_json::json!({ "due": due.len(), "completed": completed, "skipped": skipped }))
}
