//! The handover workflow (decision 0035): pickup and return confirmed by code, each wrong code
//! saved before it is answered (so racing guesses cannot outrun the lock), and the overdue flag
//! the scheduled task sets.

use chrono::{DateTime, Duration, Utc};

use crate::bookings::{busy, event, visible_booking};
use crate::domain::booking::{Booking, BookingId, HandoverOutcome, Step};
use crate::domain::events::kinds;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{BookingReader, BookingWriter, Due, DueBookings};

/// `caller` asks for `step` of booking `id` with `code` at `now`: the booking moved and
/// announced, or the refusal (a wrong code counted first). Strangers get 404.
pub async fn hand_over<S>(
    store: &S,
    id: &BookingId,
    caller: &UserId,
    step: Step,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Booking, AppError>
where
    S: BookingReader + BookingWriter,
{
    for _ in 0..3 {
        let (current, party) = visible_booking(store, id, caller).await?;
        let (next, refusal) = match current.hand_over(step, party, code, now)? {
            HandoverOutcome::Moved(next) => (next, None),
            HandoverOutcome::Refused { next, error } => (next, Some(error)),
        };
        let announcement = refusal.is_none().then(|| event(step.transition().event_kind(), &next, Some(caller), now));
        match store.move_booking(&current, &next, announcement.as_ref()).await {
            Ok(()) => {
                if let Some(error) = refusal {
                    let locked = next.handover.locked_until.is_some();
                    tracing::warn!(booking_id = %id, ?step, attempts = next.handover.failed_attempts, locked, "wrong handover code");
                    crate::metrics::count("HandoverCodeRefused", &[("Locked", if locked { "yes" } else { "no" })]);
                    return Err(error);
                }
                tracing::info!(booking_id = %id, ?step, ?party, to = next.status.as_str(), late_days = next.handover.late_days, "handover confirmed");
                crate::metrics::count("BookingMoves", &[("To", next.status.as_str())]);
                return Ok(next);
            }
            Err(AppError::PreconditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(busy())
}

/// One run of the overdue task: every item still out `grace` after its end is flagged once and
/// both parties are told. Returns (due, flagged, skipped).
pub async fn flag_overdue<S>(
    store: &S,
    grace: Duration,
    now: DateTime<Utc>,
    batch: u32,
) -> Result<(usize, usize, usize), AppError>
where
    S: DueBookings + BookingReader + BookingWriter,
{
    crate::bookings::run_due_with(store, Due::ReturnOverdue { grace }, now, batch, |current| {
        Ok((current.flagged_overdue(grace, now)?, kinds::BOOKING_RETURN_OVERDUE))
    })
    .await
}
