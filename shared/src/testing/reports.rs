//! Condition reports, versioned as the adapter stores them.

use super::*;
use crate::domain::condition::ConditionReport;
use crate::ports::ReportStore;

#[async_trait]
impl ReportStore for MemoryStore {
    async fn booking_reports(&self, id: &BookingId) -> Result<Option<(Booking, Vec<ConditionReport>)>, AppError> {
        let Some(booking) = lock(&self.bookings).get(id).cloned() else {
            return Ok(None);
        };
        let mut mine: Vec<ConditionReport> =
            lock(&self.reports).iter().filter(|r| &r.booking_id == id).cloned().collect();
        // The adapter's key order: `REPORT#{stage}#{party}`.
        mine.sort_by_key(|r| (r.stage.as_str(), matches!(r.author, Party::Renter)));
        Ok(Some((booking, mine)))
    }

    async fn put_report(&self, report: &ConditionReport, event: &DomainEvent) -> Result<(), AppError> {
        let mut reports = lock(&self.reports);
        let same = |r: &ConditionReport| {
            r.booking_id == report.booking_id && r.stage == report.stage && r.author == report.author
        };
        let stored = reports.iter().position(same);
        if stored.map_or(0, |i| reports[i].version) != report.version - 1 {
            return Err(AppError::conflict("report_changed", "the report was edited meanwhile"));
        }
        match stored {
            Some(i) => reports[i] = report.clone(),
            None => reports.push(report.clone()),
        }
        drop(reports);
        self.outbox(event);
        Ok(())
    }
}
