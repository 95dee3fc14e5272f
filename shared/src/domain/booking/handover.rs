//! The booking's middle (decision 0035): the owner confirms the pickup with the renter's 6-digit
//! code, the renter confirms the return with the owner's (or the owner confirms it alone). Five
//! wrong codes lock the booking's handover for 15 minutes. An item not back by the end of the
//! stay plus a grace period is flagged overdue, and each started day past the end costs one
//! daily price.

use chrono::{DateTime, Duration, NaiveTime, SubsecRound, Utc};
use serde::Serialize;

use super::{Booking, BookingStatus, Party, Transition};
use crate::error::AppError;

/// Wrong codes a booking takes before its handover locks.
pub const CODE_ATTEMPTS: u32 = 5;
/// How long the lock lasts.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// How early before the start the pickup opens.
pub const PICKUP_LEAD: Duration = Duration::hours(24);

/// A 6-digit handover code. Never serialized with the booking and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct HandoverCode(String);

impl HandoverCode {
    /// A fresh code from the system's CSPRNG, uniform over 000000-999999.
    pub fn generate() -> Result<Self, AppError> {
        // The largest multiple of 10^6 below 2^32: values above it would favour low codes.
        const LIMIT: u32 = 4_294_000_000;
        loop {
            let mut bytes = [0u8; 4];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| AppError::internal("the system CSPRNG failed"))?;
            let n = u32::from_le_bytes(bytes);
            if n < LIMIT {
                return Ok(HandoverCode(format!("{:06}", n % 1_000_000)));
            }
        }
    }

    /// A code as stored; an empty one (bookings made before handovers) matches nothing.
    pub fn from_stored(raw: String) -> Self {
        HandoverCode(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this code, compared in constant time.
    fn matches(&self, given: &str) -> bool {
        self.0.len() == 6
            && given.len() == 6
            && aws_lc_rs::constant_time::verify_slices_are_equal(self.0.as_bytes(), given.as_bytes()).is_ok()
    }
}

impl std::fmt::Debug for HandoverCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandoverCode(******)")
    }
}

/// What the handover recorded. The codes and the failure count stay on the server; the
/// booking's parties see a code only through `Booking::code_for`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Handover {
    #[serde(skip)]
    pub pickup_code: HandoverCode,
    #[serde(skip)]
    pub return_code: HandoverCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picked_up_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned_at: Option<DateTime<Utc>>,
    /// Who confirmed the return: the renter (with the owner's code) or the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_confirmed_by: Option<Party>,
    /// When the overdue task flagged the item as not back in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_since: Option<DateTime<Utc>>,
    /// Started days past the end at the return (0 within the grace period), and their price.
    pub late_days: i64,
    pub late_fee: i64,
    #[serde(skip)]
    pub failed_attempts: u32,
    /// While wrong codes lock the handover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<DateTime<Utc>>,
}

impl Handover {
    /// Both codes of a new booking.
    pub fn new() -> Result<Self, AppError> {
        Ok(Handover {
            pickup_code: HandoverCode::generate()?,
            return_code: HandoverCode::generate()?,
            ..Default::default()
        })
    }
}

/// A handover step a party asks for. A return past the end and `grace` is late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    PickUp,
    Return { grace: Duration },
}

impl Step {
    pub fn transition(self) -> Transition {
        match self {
            Step::PickUp => Transition::PickUp,
            Step::Return { .. } => Transition::Return,
        }
    }
}

/// What a handover request does: the booking moves, or a wrong code is counted (the booking
/// must be saved with the count before `error` is answered).
#[derive(Debug)]
pub enum HandoverOutcome {
    Moved(Booking),
    Refused { next: Booking, error: AppError },
}

impl Booking {
    /// When the stay ends: 00:00 UTC of its exclusive end date, when the next renter's first
    /// day begins (the same instant completion uses).
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.end_date.and_time(NaiveTime::MIN).and_utc()
    }

    /// From when the owner may confirm the pickup.
    pub fn pickup_opens_at(&self) -> DateTime<Utc> {
        self.start_date.and_time(NaiveTime::MIN).and_utc() - PICKUP_LEAD
    }

    /// The code `party` should be shown now: the renter their pickup code once the booking is
    /// confirmed (paid), the owner their return code while the item is out.
    pub fn code_for(&self, party: Party) -> Option<&str> {
        match (party, self.status) {
            (Party::Renter, BookingStatus::Confirmed) => Some(self.handover.pickup_code.as_str()),
            (Party::Owner, BookingStatus::InProgress) => Some(self.handover.return_code.as_str()),
            _ => None,
        }
        .filter(|code| !code.is_empty())
    }

    /// `by` asks for `step` with `code` at `now`. Only the owner confirms a pickup, with the
    /// renter's code, from `PICKUP_LEAD` before the start until the end; the renter confirms a return with
    /// the owner's code, the owner without one. A late return costs a daily price per started
    /// day past the end.
    pub fn hand_over(
        &self,
        step: Step,
        by: Party,
        code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<HandoverOutcome, AppError> {
        let now = now.trunc_subsecs(3);
        let transition = step.transition();
        self.status.after(transition)?;
        let expected = match (step, by) {
            (Step::PickUp, Party::Renter) => return Err(AppError::Forbidden),
            (Step::PickUp, Party::Owner) => Some(&self.handover.pickup_code),
            (Step::Return { .. }, Party::Renter) => Some(&self.handover.return_code),
            (Step::Return { .. }, Party::Owner) => None,
        };
        if step == Step::PickUp && now < self.pickup_opens_at() {
            return Err(AppError::conflict(
                "pickup_not_open",
                format!("the pickup opens at {}", self.pickup_opens_at().to_rfc3339()),
            ));
        }
        // Picked up after the stay ended would start it overdue; it ends as never picked up.
        if step == Step::PickUp && now >= self.ends_at() {
            return Err(AppError::conflict("pickup_closed", "the stay has ended; it can no longer be picked up"));
        }
        if let Some(expected) = expected {
            if let Some(until) = self.handover.locked_until.filter(|until| *until > now) {
                return Err(locked(until, now));
            }
            let given = parse_code(code)?;
            if !expected.matches(given) {
                return Ok(self.wrong_code(now));
            }
        }
        let mut next = self.moved(transition, now)?;
        let h = &mut next.handover;
        h.failed_attempts = 0;
        h.locked_until = None;
        match step {
            Step::PickUp => h.picked_up_at = Some(now),
            Step::Return { grace } => {
                h.returned_at = Some(now);
                h.return_confirmed_by = Some(by);
                h.late_days = late_days(self.ends_at(), grace, now);
                h.late_fee = h.late_days.saturating_mul(self.quote.daily_price);
            }
        }
        Ok(HandoverOutcome::Moved(next))
    }

    /// A wrong code counted: the fifth since the last success or lock locks the handover.
    fn wrong_code(&self, now: DateTime<Utc>) -> HandoverOutcome {
        let mut next = self.clone();
        next.updated_at = now;
        next.version = self.version + 1;
        let attempts = next.handover.failed_attempts + 1;
        let error = if attempts >= CODE_ATTEMPTS {
            next.handover.failed_attempts = 0;
            next.handover.locked_until = Some(now + LOCKOUT);
            locked(now + LOCKOUT, now)
        } else {
            next.handover.failed_attempts = attempts;
            next.handover.locked_until = None;
            let left = CODE_ATTEMPTS - attempts;
            AppError::field("code", format!("does not match; {left} more tries before a 15-minute lock"))
        };
        HandoverOutcome::Refused { next, error }
    }

    /// The overdue task's flag: an item still out `grace` after the end. Flagged once.
    pub fn flagged_overdue(&self, grace: Duration, now: DateTime<Utc>) -> Result<Booking, AppError> {
        let now = now.trunc_subsecs(3);
        if self.status != BookingStatus::InProgress || self.handover.overdue_since.is_some() {
            return Err(AppError::conflict("not_overdue", "only an item still out can be flagged overdue, once"));
        }
        if now < self.ends_at() + grace {
            return Err(AppError::conflict("not_overdue", "the grace period after the end has not passed"));
        }
        let mut next = self.clone();
        next.handover.overdue_since = Some(now);
        next.updated_at = now;
        next.version = self.version + 1;
        Ok(next)
    }
}

/// Started days between `ends_at` and `returned_at`; none within `grace`.
fn late_days(ends_at: DateTime<Utc>, grace: Duration, returned_at: DateTime<Utc>) -> i64 {
    if returned_at <= ends_at + grace {
        return 0;
    }
    let late_ms = (returned_at - ends_at).num_milliseconds();
    let day_ms = Duration::days(1).num_milliseconds();
    (late_ms + day_ms - 1) / day_ms
}

fn parse_code(code: Option<&str>) -> Result<&str, AppError> {
    match code {
        Some(c) if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) => Ok(c),
        Some(_) => Err(AppError::field("code", "must be the 6 digits the other party sees")),
        None => Err(AppError::field("code", "is required")),
    }
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    AppError::TooManyRequests { retry_after: crate::domain::seconds_until(until, now) }
}

/// `POST /bookings/{id}/pickup` and `/return` as sent.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoverRequest {
    #[serde(default)]
    pub code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    /// Confirmed and paid, 2026-12-01 to 2026-12-04 (ends 12-04 00:00), 15.00 a day.
    fn booking() -> Booking {
        crate::testing::confirmed_booking("2026-12-01", 3, 1_500).unwrap()
    }

    fn moved(outcome: HandoverOutcome) -> Booking {
        match outcome {
            HandoverOutcome::Moved(b) => b,
            HandoverOutcome::Refused { error, .. } => panic!("refused: {error:?}"),
        }
    }

    #[test]
    fn codes_are_six_random_digits_and_never_printed() {
        let codes: Vec<HandoverCode> = (0..50).map(|_| HandoverCode::generate().unwrap()).collect();
        assert!(codes.iter().all(|c| c.as_str().len() == 6 && c.as_str().bytes().all(|b| b.is_ascii_digit())));
        let distinct: std::collections::HashSet<&str> = codes.iter().map(HandoverCode::as_str).collect();
        assert!(distinct.len() > 45, "50 codes from a million values barely collide");
        let b = booking();
        let printed = format!("{b:?} {}", serde_json::to_string(&b).unwrap());
        assert!(
            !printed.contains(b.handover.pickup_code.as_str()) && !printed.contains(b.handover.return_code.as_str())
        );
        assert!(!HandoverCode::from_stored(String::new()).matches(""), "a booking without codes matches nothing");
    }

    #[test]
    fn each_party_sees_the_code_they_hold_now() {
        let b = booking();
        assert_eq!(b.code_for(Party::Renter), Some(b.handover.pickup_code.as_str()));
        assert_eq!(b.code_for(Party::Owner), None);
        let out = moved(
            b.hand_over(Step::PickUp, Party::Owner, Some(b.handover.pickup_code.as_str()), b.pickup_opens_at())
                .unwrap(),
        );
        assert_eq!(out.code_for(Party::Renter), None);
        assert_eq!(out.code_for(Party::Owner), Some(b.handover.return_code.as_str()));
        let mut unpaid = b.clone();
        unpaid.status = BookingStatus::PendingPayment;
        assert_eq!(unpaid.code_for(Party::Renter), None, "no code before payment");
    }

    #[test]
    fn pickup_rules() {
        let b = booking();
        let code = b.handover.pickup_code.as_str();
        let opens = at("2026-11-30T00:00:00Z");
        assert_eq!(b.pickup_opens_at(), opens);
        let early = b.hand_over(Step::PickUp, Party::Owner, Some(code), opens - Duration::seconds(1)).unwrap_err();
        assert_eq!(early.code(), "pickup_not_open");
        let late = b.hand_over(Step::PickUp, Party::Owner, Some(code), b.ends_at()).unwrap_err();
        assert_eq!(late.code(), "pickup_closed");
        assert!(matches!(b.hand_over(Step::PickUp, Party::Renter, Some(code), opens), Err(AppError::Forbidden)));
        let out = moved(b.hand_over(Step::PickUp, Party::Owner, Some(code), opens).unwrap());
        assert_eq!((out.status, out.handover.picked_up_at, out.version), (BookingStatus::InProgress, Some(opens), 2));
        let mut unpaid = b.clone();
        unpaid.status = BookingStatus::PendingPayment;
        let err = unpaid.hand_over(Step::PickUp, Party::Owner, Some(code), opens).unwrap_err();
        assert_eq!(err.code(), "booking_is_pending_payment", "never before payment");
    }

    #[test]
    fn five_wrong_codes_lock_for_fifteen_minutes() {
        let mut b = booking();
        let right = b.handover.pickup_code.as_str().to_owned();
        let wrong = if right == "111111" { "222222" } else { "111111" };
        let t0 = at("2026-12-01T09:00:00Z");
        for n in 1..=4 {
            let HandoverOutcome::Refused { next, error } =
                b.hand_over(Step::PickUp, Party::Owner, Some(wrong), t0).unwrap()
            else {
                panic!("a wrong code is refused")
            };
            assert_eq!((error.status(), next.handover.failed_attempts, next.version), (400, n, b.version + 1));
            b = next;
        }
        let HandoverOutcome::Refused { next, error } =
            b.hand_over(Step::PickUp, Party::Owner, Some(wrong), t0).unwrap()
        else {
            panic!("refused")
        };
        assert!(matches!(error, AppError::TooManyRequests { retry_after: 900 }));
        assert_eq!(next.handover.locked_until, Some(t0 + LOCKOUT));
        b = next;
        let locked = b.hand_over(Step::PickUp, Party::Owner, Some(&right), t0 + Duration::minutes(14)).unwrap_err();
        assert!(matches!(locked, AppError::TooManyRequests { retry_after: 60 }), "{locked:?}");
        // The lock over, a wrong code starts a new count, and the right one clears it.
        let after = t0 + LOCKOUT;
        let HandoverOutcome::Refused { next, .. } =
            b.hand_over(Step::PickUp, Party::Owner, Some(wrong), after).unwrap()
        else {
            panic!("refused")
        };
        assert_eq!((next.handover.failed_attempts, next.handover.locked_until), (1, None));
        let out = moved(next.hand_over(Step::PickUp, Party::Owner, Some(&right), after).unwrap());
        assert_eq!((out.handover.failed_attempts, out.status), (0, BookingStatus::InProgress));
        let malformed = b.hand_over(Step::PickUp, Party::Owner, Some("12a456"), after).unwrap_err();
        assert_eq!(malformed.status(), 400);
    }

    #[test]
    fn late_returns_cost_a_daily_price_per_started_day() {
        let b = booking();
        let out = moved(
            b.hand_over(Step::PickUp, Party::Owner, Some(b.handover.pickup_code.as_str()), b.pickup_opens_at())
                .unwrap(),
        );
        let ret = |who: Party, code: Option<&str>, when: &str| {
            moved(out.hand_over(Step::Return { grace: Duration::hours(2) }, who, code, at(when)).unwrap())
        };
        let code = Some(out.handover.return_code.as_str());
        let on_time = ret(Party::Renter, code, "2026-12-03T18:00:00Z");
        assert_eq!((on_time.status, on_time.handover.late_days), (BookingStatus::Returned, 0));
        assert_eq!(on_time.handover.return_confirmed_by, Some(Party::Renter));
        assert_eq!(ret(Party::Owner, None, "2026-12-04T02:00:00Z").handover.late_days, 0, "within the grace");
        let late = ret(Party::Owner, None, "2026-12-04T02:00:01Z");
        assert_eq!((late.handover.late_days, late.handover.late_fee), (1, 1_500), "the first started day");
        let later = ret(Party::Renter, code, "2026-12-06T00:00:01Z");
        assert_eq!((later.handover.late_days, later.handover.late_fee), (3, 4_500));
        assert!(!later.status.holds_dates(), "what is left of the days goes back to the calendar");
        let renter_without =
            out.hand_over(Step::Return { grace: Duration::hours(2) }, Party::Renter, None, at("2026-12-03T18:00:00Z"));
        assert_eq!(renter_without.unwrap_err().status(), 400, "the renter needs the owner's code");
    }

    #[test]
    fn overdue_is_flagged_once_after_the_grace() {
        let b = booking();
        let grace = Duration::hours(2);
        assert_eq!(
            b.flagged_overdue(grace, Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap()).unwrap_err().code(),
            "not_overdue"
        );
        let out = moved(
            b.hand_over(Step::PickUp, Party::Owner, Some(b.handover.pickup_code.as_str()), b.pickup_opens_at())
                .unwrap(),
        );
        assert!(out.flagged_overdue(grace, at("2026-12-04T01:59:59Z")).is_err());
        let flagged = out.flagged_overdue(grace, at("2026-12-04T02:00:00Z")).unwrap();
        assert_eq!(flagged.handover.overdue_since, Some(at("2026-12-04T02:00:00Z")));
        assert!(flagged.flagged_overdue(grace, at("2026-12-05T00:00:00Z")).is_err(), "once");
    }
}
