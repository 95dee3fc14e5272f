//! Condition reports (decision 0042): a booking's party writes their report of the pickup or
//! the return while the stage is open; both parties and operators read them.

use chrono::{DateTime, Utc};

use crate::domain::booking::{Booking, BookingId, Party};
use crate::domain::condition::{ConditionReport, ReportRequest, ReportStage};
use crate::domain::events::kinds;
use crate::domain::review::OPERATORS_GROUP;
use crate::error::AppError;
use crate::identity::Caller;
use crate::ports::ReportStore;

/// `caller` writes (or edits) their report of `stage` of booking `id` at `now`: the report, and
/// whether it is new. Strangers get 404, as does a stage that is not `pickup` or `return`.
pub async fn write<S: ReportStore>(
    store: &S,
    id: &BookingId,
    caller: &Caller,
    stage: &str,
    request: ReportRequest,
    now: DateTime<Utc>,
) -> Result<(ConditionReport, bool), AppError> {
    let stage = ReportStage::parse(stage).ok_or(AppError::NotFound("report stage"))?;
    let contents = request.parse()?;
    let (booking, reports) = store.booking_reports(id).await?.ok_or(AppError::NotFound("booking"))?;
    let party = booking.party(&caller.user_id).ok_or(AppError::NotFound("booking"))?;
    stage.check_open(&booking, now)?;
    let previous = reports.iter().find(|r| r.stage == stage && r.author == party);
    if let Some(same) = previous.filter(|p| p.same_as(&contents)) {
        tracing::info!(booking_id = %id, stage = stage.as_str(), version = same.version, "condition report unchanged");
        return Ok((same.clone(), false));
    }
    let report = ConditionReport::write(&booking, stage, party, contents, previous, now);
    let mut event = crate::bookings::event(kinds::CONDITION_REPORTED, &booking, Some(&caller.user_id), now);
    event.data["stage"] = serde_json::json!(stage.as_str());
    event.data["author"] = serde_json::json!(party);
    event.data["report_version"] = serde_json::json!(report.version);
    store.put_report(&report, &event).await?;
    tracing::info!(booking_id = %id, stage = stage.as_str(), version = report.version, event_id = %event.id, "condition report written");
    crate::metrics::count("ConditionReportsWritten", &[("Stage", stage.as_str())]);
    let new = previous.is_none();
    Ok((report, new))
}

/// Whether `caller` may read `booking`'s reports: its parties and operators.
fn may_read(booking: &Booking, caller: &Caller) -> bool {
    let party: Option<Party> = booking.party(&caller.user_id);
    party.is_some() || caller.is_in_group(OPERATORS_GROUP)
}

/// Booking `id`'s reports as `caller` sees them, each with when it stops being editable; 404
/// for anyone but its parties and operators.
pub async fn list<S: ReportStore>(store: &S, id: &BookingId, caller: &Caller) -> Result<serde_json::Value, AppError> {
    let (booking, reports) = store.booking_reports(id).await?.ok_or(AppError::NotFound("booking"))?;
    if !may_read(&booking, caller) {
        return Err(AppError::NotFound("booking"));
    }
    let items = reports
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
