//! Condition reports, versioned as the adapter stores them.

use super::*;
use crate::domain::condition::ConditionReport;
use crate::ports::ReportStore;

#[async_trait]
impl ReportStore for MemoryStore {
    async fn reports(&self, booking: &BookingId) -> Result<Vec<ConditionReport>, AppError> {
        let mut mine: Vec<ConditionReport> =
            lock(&self.reports).iter().filter(|r| &r.booking_id == booking).cloned().collect();
        mine.sort_by_key(|r| (r.stage.as_str(), matches!(r.author, Party::Renter)));
        Ok(mine)
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
