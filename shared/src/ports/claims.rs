//! Damage claim and evidence ports (decision 0043).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, Recorded};
use crate::cursor::LastKey;
use crate::domain::booking::{Booking, BookingId};
use crate::domain::claim::{ClaimId, ClaimStatus, DamageClaim};
use crate::domain::condition::ConditionReport;
use crate::domain::deposit::Deposit;
use crate::domain::events::DomainEvent;
use crate::domain::evidence::file::{EvidenceFile, EvidenceId};
use crate::error::AppError;

/// Everything a claim is judged on, read together (one query of the booking's partition).
#[derive(Debug, Clone)]
pub struct ClaimCase {
    pub booking: Booking,
    pub claim: Option<DamageClaim>,
    pub deposit: Option<Deposit>,
    /// Both parties' files, oldest first.
    pub evidence: Vec<EvidenceFile>,
    pub reports: Vec<ConditionReport>,
}

/// Parties' evidence files of a booking.
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Stores a new (pending) file.
    async fn add_evidence(&self, file: &EvidenceFile) -> Result<(), AppError>;
    async fn get_evidence(&self, booking: &BookingId, id: &EvidenceId) -> Result<Option<EvidenceFile>, AppError>;
    /// Counts one more check begun of pending `file` (conditioned on the count read): the new
    /// count, or `None` if it is no longer pending or another delivery counted first.
    async fn begin_check(&self, file: &EvidenceFile) -> Result<Option<u32>, AppError>;
    /// Records a pending file's check; `Duplicate` (nothing written) if it was checked already.
    async fn finish_evidence(&self, file: &EvidenceFile) -> Result<Recorded, AppError>;
}

/// Claims, one per booking at most.
#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// Booking `id` with its claim, deposit, evidence and reports; none without such a booking.
    async fn claim_case(&self, id: &BookingId) -> Result<Option<ClaimCase>, AppError>;
    /// Booking `id`'s claim, if any (one read).
    async fn booking_claim(&self, id: &BookingId) -> Result<Option<DamageClaim>, AppError>;
    /// The booking claim `id` is against.
    async fn claim_booking(&self, id: &ClaimId) -> Result<Option<BookingId>, AppError>;
    /// Stores `next` with `event` if the stored claim is at `previous_version` (`None`: only if
    /// the booking has none) and, when given, `deposit` if the stored one is at its version
    /// (one transaction); `PreconditionFailed` and nothing stored otherwise.
    async fn save_claim(
        &self,
        next: &DamageClaim,
        previous_version: Option<u64>,
        deposit: Option<(&Deposit, u64)>,
        event: &DomainEvent,
    ) -> Result<(), AppError>;
    /// Bookings whose open claim's answer was due before `now`, earliest first.
    async fn due_claims(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError>;
    /// Claims in `status`, newest first, `limit` a page, after `start`.
    async fn claims_in(
        &self,
        status: ClaimStatus,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<DamageClaim>, AppError>;
}

/// The bytes behind evidence files, in the private evidence bucket.
#[async_trait]
pub trait EvidenceObjects: Send + Sync {
    /// The file's bytes, never reading past `cap` (`None`: gone; `Some(Err(size))`: over `cap`).
    async fn read(&self, key: &str, cap: usize) -> Result<Option<Result<Vec<u8>, u64>>, AppError>;
    /// A GET URL for `key` valid for `valid_for` (signed locally: no call).
    async fn presign_get(&self, key: &str, valid_for: std::time::Duration) -> Result<String, AppError>;
    /// Stores a photo's WebP rendition at `key`.
    async fn put_rendition(&self, key: &str, webp: Vec<u8>) -> Result<(), AppError>;
}

/// A photo rendered by the image pipeline: its renditions, or why it cannot be.
pub struct RenderedPhoto {
    pub renditions: Vec<(crate::domain::evidence::file::Rendition, Vec<u8>)>,
}

/// The image pipeline, as the evidence check uses it: a plain function (CPU-bound, run off the
/// async threads), so `shared` carries none of the codecs.
pub type RenderPhoto = fn(&[u8]) -> Result<RenderedPhoto, crate::domain::evidence::Refusal>;
