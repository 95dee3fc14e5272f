//! Condition reports (decision 0042): a booking's party writes their report of the pickup or
//! the return while the stage is open; both parties and operators read them.

use chrono::{DateTime, Utc};

use crate::bookings::visible_booking;
use crate::domain::booking::{Booking, BookingId, Party};
use crate::domain::condition::{ConditionReport, ReportRequest, ReportStage};
use crate::domain::events::kinds;
use crate::domain::review::OPERATORS_GROUP;
use crate::error::AppError;
use crate::identity::Caller;
use crate::ports::{BookingReader, ReportStore};

/// `caller` writes (or edits) their report of `stage` of booking `id` at `now`. Strangers get
/// 404, as does a stage that is not `pickup` or `return`.
pub async fn write<S>(
    store: &S,
    id: &BookingId,
    caller: &Caller,
    stage: &str,
    request: ReportRequest,
    now: DateTime<Utc>,
) -> Result<ConditionReport, AppError>
where
    S: BookingReader + ReportStore,
{
    let stage = ReportStage::parse(stage).ok_or(AppError::NotFound("report stage"))?;
    let contents = request.parse()?;
    let (booking, party) = visible_booking(store, id, &caller.user_id).await?;
    stage.check_open(&booking, now)?;
    let reports = store.reports(&booking.id).await?;
    let previous = reports.iter().find(|r| r.stage == stage && r.author == party);
    let report = ConditionReport::write(&booking, stage, party, contents, previous, now);
    let mut event = crate::bookings::event(kinds::CONDITION_REPORTED, &booking, Some(&caller.user_id), now);
    event.data["stage"] = serde_json::json!(stage.as_str());
    event.data["author"] = serde_json::json!(party);
    event.data["report_version"] = serde_json::json!(report.version);
    store.put_report(&report, &event).await?;
    tracing::info!(booking_id = %id, stage = stage.as_str(), version = report.version, event_id = %event.id, "condition report written");
    crate::metrics::count("ConditionReportsWritten", &[("Stage", stage.as_str())]);
    Ok(report)
}

/// Booking `id` for a reader of its reports: its parties and operators; 404 for anyone else.
pub async fn readable_booking<S: BookingReader>(
    store: &S,
    id: &BookingId,
    caller: &Caller,
) -> Result<Booking, AppError> {
    let booking = store.get_booking(id).await?.ok_or(AppError::NotFound("booking"))?;
    let party: Option<Party> = booking.party(&caller.user_id);
    if party.is_none() && !caller.is_in_group(OPERATORS_GROUP) {
        return Err(AppError::NotFound("booking"));
    }
    Ok(booking)
}

/// Booking `id`'s reports as `caller` sees them, each with when it stops being editable.
pub async fn list<S>(store: &S, id: &BookingId, caller: &Caller) -> Result<serde_json::Value, AppError>
where
    S: BookingReader + ReportStore,
{
    let booking = readable_booking(store, id, caller).await?;
    let items = store
        .reports(id)
        .await?
        .into_iter()
        .map(|r| {
            let closes = r.stage.closes_at(&booking);
            let mut view = serde_json::to_value(&r).map_err(AppError::internal)?;
            view["editable_until"] = serde_json::json!(closes);
            Ok(view)
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(serde_json::json!({ "items": items }))
}
