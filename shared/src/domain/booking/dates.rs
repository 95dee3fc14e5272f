//! Date ranges `[start, end)` in UTC days: what a booking holds and an owner blocks.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::error::{AppError, FieldError};

/// Days `[start, end)`: `end` is exclusive and always after `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    #[serde(rename = "start_date")]
    pub start: NaiveDate,
    #[serde(rename = "end_date")]
    pub end: NaiveDate,
}

/// The longest range anything in the system holds or blocks at once.
pub const MAX_RANGE_DAYS: i64 = 90;

impl DateRange {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, FieldError> {
        if end <= start {
            return Err(FieldError::new("end_date", "must be after start_date (the end date is exclusive)"));
        }
        Ok(Self { start, end })
    }

    /// `YYYY-MM-DD` strings as sent by clients, into a range.
    pub fn parse(start: &str, end: &str) -> Result<Self, AppError> {
        let date = |field: &str, raw: &str| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| FieldError::new(field, "must be a date as YYYY-MM-DD"))
        };
        let (s, e) = (date("start_date", start), date("end_date", end));
        match (s, e) {
            (Ok(s), Ok(e)) => Self::new(s, e).map_err(|f| AppError::Validation(vec![f])),
            (s, e) => Err(AppError::Validation([s.err(), e.err()].into_iter().flatten().collect())),
        }
    }

    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// Every day of the range, in order.
    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> {
        let start = self.start;
        (0..self.days()).map(move |i| start + Duration::days(i))
    }

    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Merges single days into sorted, non-overlapping ranges (for availability answers).
pub fn merge_days(mut days: Vec<NaiveDate>) -> Vec<DateRange> {
    days.sort_unstable();
    days.dedup();
    let mut out: Vec<DateRange> = Vec::new();
    for day in days {
        let next = day + Duration::days(1);
        match out.last_mut() {
            Some(last) if last.end == day => last.end = next,
            _ => out.push(DateRange { start: day, end: next }),
        }
    }
    out
}
