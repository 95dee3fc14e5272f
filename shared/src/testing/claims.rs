//! Damage claims and evidence files, as the DynamoDB adapter keeps them (decision 0043).

use super::*;
use crate::domain::claim::{ClaimId, ClaimStatus, DamageClaim};
use crate::domain::deposit::Deposit;
use crate::domain::evidence::file::{EvidenceFile, EvidenceId, EvidenceStatus};
use crate::ports::{ClaimCase, ClaimStore, EvidenceStore, Recorded};

#[async_trait]
impl EvidenceStore for MemoryStore {
    async fn add_evidence(&self, file: &EvidenceFile) -> Result<(), AppError> {
        let mut files = lock(&self.evidence);
        if files.iter().any(|f| f.booking_id == file.booking_id && f.id == file.id) {
            return Err(AppError::internal("evidence file stored twice"));
        }
        files.push(file.clone());
        Ok(())
    }

    async fn get_evidence(&self, booking: &BookingId, id: &EvidenceId) -> Result<Option<EvidenceFile>, AppError> {
        Ok(lock(&self.evidence).iter().find(|f| &f.booking_id == booking && &f.id == id).cloned())
    }

    async fn begin_check(&self, file: &EvidenceFile) -> Result<Option<u32>, AppError> {
        let mut files = lock(&self.evidence);
        match files.iter_mut().find(|f| f.booking_id == file.booking_id && f.id == file.id) {
            Some(stored)
                if stored.status == EvidenceStatus::PendingUpload && stored.check_attempts == file.check_attempts =>
            {
                stored.check_attempts += 1;
                Ok(Some(stored.check_attempts))
            }
            _ => Ok(None),
        }
    }

    async fn finish_evidence(&self, file: &EvidenceFile) -> Result<Recorded, AppError> {
        let mut files = lock(&self.evidence);
        match files.iter_mut().find(|f| f.booking_id == file.booking_id && f.id == file.id) {
            Some(stored) if stored.status == EvidenceStatus::PendingUpload => {
                *stored = file.clone();
                Ok(Recorded::New)
            }
            _ => Ok(Recorded::Duplicate),
        }
    }
}

#[async_trait]
impl ClaimStore for MemoryStore {
    async fn claim_case(&self, id: &BookingId) -> Result<Option<ClaimCase>, AppError> {
        let Some(booking) = lock(&self.bookings).get(id).cloned() else {
            return Ok(None);
        };
        let mut evidence: Vec<EvidenceFile> =
            lock(&self.evidence).iter().filter(|f| &f.booking_id == id).cloned().collect();
        evidence.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.as_str().cmp(b.id.as_str())));
        let mut reports: Vec<_> = lock(&self.reports).iter().filter(|r| &r.booking_id == id).cloned().collect();
        reports.sort_by_key(|r| (r.stage.as_str(), matches!(r.author, Party::Renter)));
        Ok(Some(ClaimCase {
            booking,
            claim: lock(&self.claims).get(id).cloned(),
            deposit: lock(&self.deposits).get(id).cloned(),
            evidence,
            reports,
        }))
    }

    async fn booking_claim(&self, id: &BookingId) -> Result<Option<DamageClaim>, AppError> {
        Ok(lock(&self.claims).get(id).cloned())
    }

    async fn claim_booking(&self, id: &ClaimId) -> Result<Option<BookingId>, AppError> {
        Ok(lock(&self.claims).values().find(|c| &c.id == id).map(|c| c.booking_id.clone()))
    }

    async fn save_claim(
        &self,
        next: &DamageClaim,
        previous_version: Option<u64>,
        deposit: Option<(&Deposit, u64)>,
        event: &DomainEvent,
    ) -> Result<(), AppError> {
        let mut claims = lock(&self.claims);
        let mut deposits = lock(&self.deposits);
        if claims.get(&next.booking_id).map(|c| c.version) != previous_version {
            return Err(AppError::PreconditionFailed);
        }
        if let Some((d, version)) = deposit {
            if deposits.get(&d.booking_id).map(|stored| stored.version) != Some(version) {
                return Err(AppError::PreconditionFailed);
            }
            deposits.insert(d.booking_id.clone(), d.clone());
        }
        claims.insert(next.booking_id.clone(), next.clone());
        drop((claims, deposits));
        self.outbox(event);
        Ok(())
    }

    async fn due_claims(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        let mut due: Vec<_> = lock(&self.claims)
            .values()
            .filter(|c| c.status == ClaimStatus::Open && c.answer_by <= now)
            .map(|c| (c.answer_by, c.booking_id.clone()))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.as_str().cmp(b.1.as_str())));
        Ok(due.into_iter().take(limit as usize).map(|(_, id)| id).collect())
    }

    async fn claims_in(
        &self,
        status: ClaimStatus,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<DamageClaim>, AppError> {
        let mut sorted: Vec<(String, DamageClaim)> = lock(&self.claims)
            .values()
            .filter(|c| c.status == status)
            .map(|c| (format!("{}#{}", c.filed_at.timestamp_millis(), c.id), c.clone()))
            .collect();
        sorted.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(sorted, limit, start))
    }
}

/// Evidence objects in memory: bytes by key, and download URLs that name their key and
/// lifetime (as S3's presigned ones do) without signing anything.
#[derive(Default)]
pub struct FakeEvidence {
    pub objects: Mutex<HashMap<String, Vec<u8>>>,
}

#[async_trait]
impl crate::ports::EvidenceObjects for FakeEvidence {
    async fn read(&self, key: &str, cap: usize) -> Result<Option<Result<Vec<u8>, u64>>, AppError> {
        Ok(lock(&self.objects).get(key).map(|b| if b.len() > cap { Err(b.len() as u64) } else { Ok(b.clone()) }))
    }

    async fn presign_get(&self, key: &str, valid_for: std::time::Duration) -> Result<String, AppError> {
        Ok(format!("https://evidence.test/{key}?X-Amz-Expires={}", valid_for.as_secs()))
    }

    async fn put_rendition(&self, key: &str, webp: Vec<u8>) -> Result<(), AppError> {
        lock(&self.objects).insert(key.to_owned(), webp);
        Ok(())
    }
}

/// A booking returned at `at` whose deposit is held, stored in `store`: what a claim needs.
pub async fn claimable(store: &MemoryStore, at: DateTime<Utc>) -> Result<(Booking, Deposit), AppError> {
    let booking = super::returned_booking("2026-12-01", at)?;
    store.seed_booking(&booking).await;
    let deposit = Deposit::schedule(&booking, "cus_1".into(), None, 24, at).held("pi_1".into(), None, at);
    crate::ports::DepositStore::save_deposit(store, &deposit, None, None).await?;
    Ok((booking, deposit))
}

/// The caller `sub`, in `groups`, as a token would name them.
pub fn caller(sub: &str, groups: &[&str]) -> Result<Caller, AppError> {
    let mut claims = HashMap::from([("sub".to_owned(), sub.to_owned())]);
    if !groups.is_empty() {
        claims.insert("cognito:groups".to_owned(), serde_json::json!(groups).to_string());
    }
    Caller::from_claims(&claims)
}
