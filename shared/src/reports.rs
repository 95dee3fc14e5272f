//! Condition reports (decision 0042): a booking's party writes their report of the pickup or
//! the return while the stage is open; both parties and operators read them.

use chrono::{DateTime, Utc};

use crate::domain::booking::{Booking, BookingId, Party};
use crate::domain::condition::{ConditionReport, ReportRequest, ReportStage};
use crate::domain::events::kinds;
use crate::domain::evidence::file::{check_cited, parse_ids, EvidenceFile, EvidenceId};
use crate::domain::evidence::EvidenceType;
use crate::domain::review::OPERATORS_GROUP;
use crate::error::AppError;
use crate::error::FieldError;
use crate::identity::Caller;
use crate::ports::{ClaimStore, EvidenceObjects, ReportStore};

/// `caller` writes (or edits) their report of `stage` of booking `id` at `now`: the report, and
/// whether it is new. Strangers get 404, as does a stage that is not `pickup` or `return`.
pub async fn write<S: ReportStore + ClaimStore>(
    store: &S,
    id: &BookingId,
    caller: &Caller,
    stage: &str,
    request: ReportRequest,
    now: DateTime<Utc>,
) -> Result<(ConditionReport, bool), AppError> {
    let stage = ReportStage::parse(stage).ok_or(AppError::NotFound("report stage"))?;
    // Every problem of the request at once: its contents and its photo ids.
    let mut errors = Vec::new();
    let photos = parse_ids("photos", &request.photos, &mut errors);
    let contents = match request.parse() {
        Ok(contents) if errors.is_empty() => contents,
        Ok(_) => return Err(AppError::Validation(errors)),
        Err(AppError::Validation(mut more)) => {
            more.append(&mut errors);
            return Err(AppError::Validation(more));
        }
        Err(e) => return Err(e),
    };
    let case = store.claim_case(id).await?.ok_or(AppError::NotFound("booking"))?;
    let (booking, reports) = (case.booking, case.reports);
    let party = booking.party(&caller.user_id).ok_or(AppError::NotFound("booking"))?;
    stage.check_open(&booking, now)?;
    check_photos(&photos, &case.evidence, party)?;
    let previous = reports.iter().find(|r| r.stage == stage && r.author == party);
    if let Some(same) = previous.filter(|p| p.same_as(&contents) && p.photos == photos) {
        tracing::info!(booking_id = %id, stage = stage.as_str(), version = same.version, "condition report unchanged");
        return Ok((same.clone(), false));
    }
    let report = ConditionReport { photos, ..ConditionReport::write(&booking, stage, party, contents, previous, now) };
    let mut event = crate::bookings::event(kinds::CONDITION_REPORTED, &booking, Some(&caller.user_id), now);
    event.data["stage"] = serde_json::json!(stage.as_str());
    event.data["author"] = serde_json::json!(party);
    event.data["report_version"] = serde_json::json!(report.version);
    event.data["photos"] = serde_json::json!(report.photos);
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

/// A report's photos must be its author's files the check accepted as images.
fn check_photos(photos: &[EvidenceId], files: &[EvidenceFile], party: Party) -> Result<(), AppError> {
    check_cited("photos", photos, files, party)?;
    let not_images: Vec<FieldError> = photos
        .iter()
        .enumerate()
        .filter(|(_, id)| {
            let checked = files.iter().find(|f| f.id == **id).and_then(|f| f.checked.as_ref());
            let photo =
                checked.is_some_and(|c| matches!(c.kind, EvidenceType::Jpeg | EvidenceType::Png | EvidenceType::Webp));
            !photo || checked.is_some_and(|c| c.renditions.is_empty())
        })
        .map(|(i, _)| {
            let why =
                "must be a JPEG, PNG or WebP photo of 240 px or more on its short side (one the pipeline rendered)";
            FieldError::new(format!("photos[{i}]"), why)
        })
        .collect();
    if not_images.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(not_images))
    }
}

/// Booking `id`'s reports as `caller` sees them, each with when it stops being editable and its
/// photos (`photo_files`, each with a download link valid for five minutes); 404 for anyone but
/// its parties and operators.
pub async fn list<S, O>(
    store: &S,
    objects: &O,
    id: &BookingId,
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, AppError>
where
    S: ClaimStore,
    O: EvidenceObjects,
{
    let case = store.claim_case(id).await?.ok_or(AppError::NotFound("booking"))?;
    if !may_read(&case.booking, caller) {
        return Err(AppError::NotFound("booking"));
    }
    let mut items = Vec::with_capacity(case.reports.len());
    for r in case.reports {
        let closes = r.stage.closes_at(&case.booking);
        let files: Vec<EvidenceFile> =
            r.photos.iter().filter_map(|p| case.evidence.iter().find(|f| f.id == *p).cloned()).collect();
        let mut view = serde_json::to_value(&r).map_err(AppError::internal)?;
        view["editable_until"] = serde_json::json!(closes);
        view["photo_files"] = serde_json::json!(crate::claims::evidence_view(objects, &files, now).await?);
        items.push(view);
    }
    Ok(serde_json::json!({ "items": items }))
}
