//! Condition reports (issue 23, decision 0042): each party records the item's condition at the
//! pickup and at the return, in notes and a checklist, while the stage's window is open: the
//! pickup's from when the pickup opens (24 h before the start) until 24 h after the pickup, the
//! return's from the pickup until 24 h after the return. Then a report is kept as it is.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::booking::{Booking, BookingId, BookingStatus, Party};
use super::evidence::file::EvidenceId;
use super::user::UserId;
use crate::error::{AppError, FieldError};

string_enum!(
    /// The handover a report is about.
    ReportStage { Pickup => "pickup", Return => "return" }
);

pub const MAX_NOTES_CHARS: usize = 5_000;
pub const MAX_CHECKLIST_ENTRIES: usize = 30;
pub const MAX_ITEM_CHARS: usize = 100;
/// Short enough that a full report (30 entries) fits the API's 64 KiB body in any script.
pub const MAX_ENTRY_NOTE_CHARS: usize = 200;
/// How long after its handover a stage's reports may still be edited.
pub const EDIT_WINDOW: Duration = Duration::hours(24);

/// `PUT /bookings/{id}/condition-reports/{stage}` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub notes: String,
    #[serde(default)]
    pub checklist: Vec<ChecklistEntry>,
    /// Photos: the author's evidence files the check accepted as images (decision 0043).
    #[serde(default)]
    pub photos: Vec<String>,
}

/// One checked point: what was looked at, whether it was fine, and a word on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistEntry {
    pub item: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A party's report of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionReport {
    pub booking_id: BookingId,
    pub stage: ReportStage,
    pub author: Party,
    pub author_id: UserId,
    pub notes: String,
    pub checklist: Vec<ChecklistEntry>,
    /// Evidence files (photos) of the item's condition, at most `MAX_PHOTOS`.
    pub photos: Vec<EvidenceId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// The text rules: trimmed, within its length, no control characters but line breaks and tabs.
pub(crate) fn text(field: &str, raw: &str, max: usize, required: bool, errors: &mut Vec<FieldError>) -> String {
    let t = raw.replace("\r\n", "\n").trim().to_owned();
    if required && t.is_empty() {
        errors.push(FieldError::new(field, format!("must be 1-{max} characters")));
    } else if t.chars().count() > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
    } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        errors.push(FieldError::new(field, "must not contain control characters"));
    }
    t
}

impl ReportRequest {
    /// The notes and checklist as stored; every problem at once.
    pub fn parse(self) -> Result<(String, Vec<ChecklistEntry>), AppError> {
        let mut errors = Vec::new();
        let notes = text("notes", &self.notes, MAX_NOTES_CHARS, false, &mut errors);
        if self.checklist.len() > MAX_CHECKLIST_ENTRIES {
            errors.push(FieldError::new("checklist", format!("must have at most {MAX_CHECKLIST_ENTRIES} entries")));
        }
        let checklist = self
            .checklist
            .into_iter()
            .enumerate()
            .map(|(i, e)| ChecklistEntry {
                item: text(&format!("checklist[{i}].item"), &e.item, MAX_ITEM_CHARS, true, &mut errors),
                ok: e.ok,
                note: e
                    .note
                    .map(|n| text(&format!("checklist[{i}].note"), &n, MAX_ENTRY_NOTE_CHARS, false, &mut errors))
                    .filter(|n| !n.is_empty()),
            })
            .collect::<Vec<_>>();
        if notes.is_empty() && checklist.is_empty() && self.photos.is_empty() {
            errors.push(FieldError::new("notes", "a report needs notes, a checklist or photos"));
        }
        if errors.is_empty() {
            Ok((notes, checklist))
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

impl ReportStage {
    /// When `booking`'s reports of this stage stop being editable: a day after its handover;
    /// before the pickup, the stay's end at the latest (no pickup after it); for a booking that
    /// did not go ahead, its last change. None while the item is out (the return's is to come).
    pub fn closes_at(self, booking: &Booking) -> Option<DateTime<Utc>> {
        use BookingStatus::*;
        if !matches!(booking.status, Confirmed | InProgress | Returned | Completed) {
            return Some(booking.updated_at);
        }
        match self {
            ReportStage::Pickup => {
                Some(booking.handover.picked_up_at.map_or_else(|| booking.ends_at(), |at| at + EDIT_WINDOW))
            }
            ReportStage::Return => booking.handover.returned_at.map(|at| at + EDIT_WINDOW),
        }
    }

    /// Whether this stage's reports of `booking` may be written at `now`: 409 `report_not_open`
    /// before (or for a booking that never went ahead), `report_closed` after.
    pub fn check_open(self, booking: &Booking, now: DateTime<Utc>) -> Result<(), AppError> {
        use BookingStatus::*;
        let went_ahead = matches!(booking.status, Confirmed | InProgress | Returned | Completed);
        let opened = match self {
            ReportStage::Pickup => went_ahead && now >= booking.pickup_opens_at(),
            ReportStage::Return => went_ahead && booking.handover.picked_up_at.is_some(),
        };
        if !opened {
            let when = match self {
                ReportStage::Pickup => "from 24 hours before the start of a confirmed booking",
                ReportStage::Return => "once the item is picked up",
            };
            return Err(AppError::conflict("report_not_open", format!("{} reports open {when}", self.as_str())));
        }
        match self.closes_at(booking) {
            Some(closes) if now >= closes => Err(AppError::conflict(
                "report_closed",
                format!(
                    "{} reports could be edited until {}",
                    self.as_str(),
                    closes.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                ),
            )),
            _ => Ok(()),
        }
    }
}

impl ConditionReport {
    /// `author`'s report of `stage` with these contents at `now`: a new one, or `previous`
    /// edited (same creation, next version). Contents the same as `previous`'s are no edit:
    /// see `same_as`.
    pub fn write(
        booking: &Booking,
        stage: ReportStage,
        author: Party,
        (notes, checklist): (String, Vec<ChecklistEntry>),
        previous: Option<&ConditionReport>,
        now: DateTime<Utc>,
    ) -> Self {
        let now = now.trunc_subsecs(3);
        ConditionReport {
            booking_id: booking.id.clone(),
            stage,
            author,
            author_id: match author {
                Party::Renter => booking.renter_id.clone(),
                Party::Owner => booking.owner_id.clone(),
            },
            notes,
            checklist,
            photos: Vec::new(),
            created_at: previous.map_or(now, |p| p.created_at),
            updated_at: now,
            version: previous.map_or(1, |p| p.version + 1),
        }
    }
}

impl ConditionReport {
    /// Whether these contents are what the report already says (a retried or repeated PUT:
    /// no new version, nothing announced).
    pub fn same_as(&self, (notes, checklist): &(String, Vec<ChecklistEntry>)) -> bool {
        &self.notes == notes && &self.checklist == checklist
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::{HandoverOutcome, Step};

    fn booking() -> Booking {
        crate::testing::confirmed_booking("2026-12-10", 3, 1000).unwrap()
    }

    fn request(notes: &str, checklist: serde_json::Value) -> ReportRequest {
        serde_json::from_value(serde_json::json!({ "notes": notes, "checklist": checklist })).unwrap()
    }

    #[test]
    fn contents_are_checked_all_at_once() {
        let (notes, list) =
            request(" scratch on the lid\r\n", serde_json::json!([{"item": "lens", "ok": true, "note": " "}]))
                .parse()
                .unwrap();
        assert_eq!((notes.as_str(), list[0].note.as_ref()), ("scratch on the lid", None));
        let Err(AppError::Validation(errors)) =
            request(&"x".repeat(5_001), serde_json::json!([{"item": "", "ok": false}])).parse()
        else {
            panic!("invalid");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["notes", "checklist[0].item"]);
        assert!(request("", serde_json::json!([])).parse().is_err(), "something to report");
        let many: Vec<_> = (0..31).map(|i| serde_json::json!({"item": format!("p{i}"), "ok": true})).collect();
        assert!(request("ok", serde_json::json!(many)).parse().is_err());
        assert!(request("bell\u{7}", serde_json::json!([])).parse().is_err());
    }

    #[test]
    fn each_stage_is_open_from_its_start_to_a_day_after_its_handover() {
        let mut b = booking();
        let opens = b.pickup_opens_at();
        let pickup = ReportStage::Pickup;
        assert_eq!(pickup.check_open(&b, opens - Duration::seconds(1)).unwrap_err().code(), "report_not_open");
        pickup.check_open(&b, opens).unwrap();
        assert_eq!(ReportStage::Return.check_open(&b, opens).unwrap_err().code(), "report_not_open");

        let never_picked_up = b.clone();
        b = moved(b.hand_over(Step::PickUp, Party::Owner, Some(b.handover.pickup_code.as_str()), opens).unwrap());
        assert_eq!(pickup.closes_at(&b), Some(opens + EDIT_WINDOW));
        pickup.check_open(&b, opens + EDIT_WINDOW - Duration::seconds(1)).unwrap();
        assert_eq!(pickup.check_open(&b, opens + EDIT_WINDOW).unwrap_err().code(), "report_closed");
        assert_eq!(ReportStage::Return.closes_at(&b), None, "open while the item is out");
        ReportStage::Return.check_open(&b, opens + Duration::days(30)).unwrap();
        let back = opens + Duration::days(2);
        let step = Step::Return { grace: Duration::hours(2) };
        b = moved(b.hand_over(step, Party::Owner, None, back).unwrap());
        ReportStage::Return.check_open(&b, back + EDIT_WINDOW - Duration::seconds(1)).unwrap();
        assert_eq!(ReportStage::Return.check_open(&b, back + EDIT_WINDOW).unwrap_err().code(), "report_closed");

        // Never picked up: the pickup's close with the stay, whatever happens after.
        let mut completed = never_picked_up;
        completed.status = BookingStatus::Completed;
        assert_eq!(pickup.closes_at(&completed), Some(completed.ends_at()));
        assert_eq!(pickup.check_open(&completed, completed.ends_at()).unwrap_err().code(), "report_closed");

        let mut cancelled = booking();
        cancelled.status = BookingStatus::Cancelled;
        assert_eq!(pickup.check_open(&cancelled, opens).unwrap_err().code(), "report_not_open");
        assert_eq!(pickup.closes_at(&cancelled), Some(cancelled.updated_at), "closed when it was cancelled");
    }

    fn moved(outcome: HandoverOutcome) -> Booking {
        match outcome {
            HandoverOutcome::Moved(next) => next,
            HandoverOutcome::Refused { error, .. } => panic!("refused: {error:?}"),
        }
    }

    #[test]
    fn an_edit_keeps_the_creation_and_counts_versions() {
        let b = booking();
        let t0 = Utc::now();
        let first = ConditionReport::write(&b, ReportStage::Pickup, Party::Renter, ("a".into(), vec![]), None, t0);
        assert_eq!((first.version, first.author_id.clone()), (1, b.renter_id.clone()));
        let later = t0 + Duration::hours(1);
        let edit =
            ConditionReport::write(&b, ReportStage::Pickup, Party::Renter, ("b".into(), vec![]), Some(&first), later);
        assert_eq!((edit.version, edit.created_at, edit.updated_at), (2, first.created_at, later.trunc_subsecs(3)));
    }
}
