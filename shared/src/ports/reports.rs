//! Condition report ports (decision 0042).

use async_trait::async_trait;

use crate::domain::booking::{Booking, BookingId};
use crate::domain::condition::ConditionReport;
use crate::domain::events::DomainEvent;
use crate::error::AppError;

/// The parties' condition reports of a booking: one per party and stage.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Booking `id` with its reports (the pickup's before the return's, the owner's before the
    /// renter's), read together (one query of its partition); none if there is no such booking.
    async fn booking_reports(&self, id: &BookingId) -> Result<Option<(Booking, Vec<ConditionReport>)>, AppError>;
    /// Stores `report` with `event` (the outbox) if the stored one is still the version before
    /// it (none, for version 1); else `Conflict("report_changed")` and nothing is stored.
    async fn put_report(&self, report: &ConditionReport, event: &DomainEvent) -> Result<(), AppError>;
}
