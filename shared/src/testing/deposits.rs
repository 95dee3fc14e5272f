//! Bookings' deposits and renters' Stripe Customers.

use super::*;
use crate::domain::deposit::Deposit;

#[async_trait]
impl crate::ports::DepositStore for MemoryStore {
    async fn get_deposit(&self, booking: &BookingId) -> Result<Option<Deposit>, AppError> {
        Ok(lock(&self.deposits).get(booking).cloned())
    }
    async fn save_deposit(
        &self,
        next: &Deposit,
        previous_version: Option<u64>,
        event: Option<&DomainEvent>,
    ) -> Result<(), AppError> {
        let mut deposits = lock(&self.deposits);
        if deposits.get(&next.booking_id).map(|d| d.version) != previous_version {
            return Err(AppError::PreconditionFailed);
        }
        deposits.insert(next.booking_id.clone(), next.clone());
        if let Some(event) = event {
            self.outbox(event);
        }
        Ok(())
    }
    async fn due_owner_transfers(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        let mut due: Vec<_> = lock(&self.deposits)
            .values()
            .filter(|d| d.due_at().is_none() && d.owed_to_owner().is_some())
            .map(|d| {
                (if d.last_error.is_some() { d.updated_at } else { d.settlement.map_or(d.updated_at, |s| s.at) }, d)
            })
            .filter(|(at, _)| *at <= now)
            .map(|(at, d)| (at, d.booking_id.clone()))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.as_str().cmp(b.1.as_str())));
        Ok(due.into_iter().take(limit as usize).map(|(_, id)| id).collect())
    }
    async fn due_deposits(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        let mut due: Vec<_> = lock(&self.deposits)
            .values()
            .filter_map(|d| d.due_at().filter(|at| *at <= now).map(|at| (at, d.booking_id.clone())))
            .collect();
        due.sort_by(|a, b| (a.0, a.1.as_str()).cmp(&(b.0, b.1.as_str())));
        Ok(due.into_iter().take(limit as usize).map(|(_, id)| id).collect())
    }
}

#[async_trait]
impl crate::ports::CustomerStore for MemoryStore {
    async fn customer_of(&self, user: &UserId) -> Result<Option<String>, AppError> {
        Ok(lock(&self.customers).get(user).cloned())
    }
    async fn link_customer(&self, user: &UserId, customer_id: &str) -> Result<String, AppError> {
        Ok(lock(&self.customers).entry(user.clone()).or_insert_with(|| customer_id.to_owned()).clone())
    }
}
