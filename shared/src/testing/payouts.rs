//! Bookings' payouts and the payouts Stripe reports to owners.

use super::*;
use crate::domain::payout::Payout;
use crate::domain::payout_account::OwnerPayout;

#[async_trait]
impl crate::ports::PayoutStore for MemoryStore {
    async fn get_payout(&self, booking: &BookingId) -> Result<Option<Payout>, AppError> {
        Ok(lock(&self.payouts).get(booking).cloned())
    }
    async fn save_payout(&self, next: &Payout, previous_version: Option<u64>) -> Result<(), AppError> {
        let mut payouts = lock(&self.payouts);
        if payouts.get(&next.booking_id).map(|p| p.version) != previous_version {
            return Err(AppError::PreconditionFailed);
        }
        payouts.insert(next.booking_id.clone(), next.clone());
        Ok(())
    }
    async fn due_payouts(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        let payouts = lock(&self.payouts);
        // As the due index: an open payout with a transfer (a reversal owed) or blocked counts
        // from its last change, any other from when it falls due.
        let mut due: Vec<_> = payouts
            .values()
            .filter(|p| p.open())
            .map(|p| {
                let changed = p.transfer_id.is_some() || p.blocked_reason.is_some();
                (if changed { p.updated_at } else { p.due_at }, p.booking_id.clone())
            })
            .filter(|(when, _)| *when <= now)
            .collect();
        due.sort_by(|a, b| (a.0, a.1.as_str()).cmp(&(b.0, b.1.as_str())));
        Ok(due.into_iter().take(limit as usize).map(|(_, id)| id).collect())
    }
    async fn earnings(&self, owner: &UserId, limit: u32, start: Option<LastKey>) -> Result<Page<Payout>, AppError> {
        let mut mine: Vec<(String, Payout)> = lock(&self.payouts)
            .values()
            .filter(|p| &p.owner_id == owner)
            .map(|p| (format!("{:013}#{}", p.created_at.timestamp_millis(), p.booking_id), p.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }
}

#[async_trait]
impl crate::ports::OwnerPayouts for MemoryStore {
    async fn owner_of_account(&self, account_id: &str) -> Result<Option<UserId>, AppError> {
        Ok(lock(&self.profiles)
            .values()
            .find(|p| p.payout_account.as_ref().is_some_and(|a| a.id == account_id))
            .map(|p| p.user_id.clone()))
    }
    async fn record_owner_payout(
        &self,
        owner: &UserId,
        payout: &OwnerPayout,
        event: Option<&DomainEvent>,
    ) -> Result<bool, AppError> {
        let mut all = lock(&self.owner_payouts);
        let key = (owner.clone(), payout.id.clone());
        // As the table's condition: newer wins; as new, only a failure over a `paid`.
        let keep_stored = |stored: &OwnerPayout| {
            stored.reported_at > payout.reported_at
                || (stored.reported_at == payout.reported_at
                    && (stored.status == payout.status || payout.status != "failed"))
        };
        if all.get(&key).is_some_and(keep_stored) {
            return Ok(false);
        }
        all.insert(key, payout.clone());
        if let Some(event) = event {
            self.outbox(event);
        }
        Ok(true)
    }
    async fn owner_payouts(
        &self,
        owner: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<OwnerPayout>, AppError> {
        let mut mine: Vec<(String, OwnerPayout)> = lock(&self.owner_payouts)
            .iter()
            .filter(|((user, _), _)| user == owner)
            .map(|(_, p)| (format!("{:013}#{}", p.arrival_date.timestamp_millis(), p.id), p.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }
}
