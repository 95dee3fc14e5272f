//! Condition report ports (decision 0042).

use async_trait::async_trait;

use crate::domain::booking::BookingId;
use crate::domain::condition::ConditionReport;
use crate::domain::events::DomainEvent;
use crate::error::AppError;

/// The parties' condition reports of a booking: one per party and stage.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// `booking`'s reports: the pickup's before the return's, the owner's before the renter's.
    async fn reports(&self, booking: &BookingId) -> Result<Vec<ConditionReport>, AppError>;
    /// Stores `report` with `event` (the outbox) if the stored one is still the version before
    /// it (none, for version 1); else `Conflict("report_changed")` and nothing is stored.
    async fn put_report(&self, report: &ConditionReport, event: &DomainEvent) -> Result<(), AppError>;
}
