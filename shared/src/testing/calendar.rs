//! Held and blocked days.

use super::*;

#[async_trait]
impl Calendar for MemoryStore {
    async fn unavailable_days(&self, listing: &ListingId, window: &DateRange) -> Result<Vec<NaiveDate>, AppError> {
        Ok(window.each_day().filter(|d| lock(&self.days).contains_key(&(listing.clone(), *d))).collect())
    }
    async fn block_days(&self, listing: &ListingId, range: &DateRange) -> Result<(), AppError> {
        let mut days = lock(&self.days);
        if range.each_day().any(|d| days.get(&(listing.clone(), d)).is_some_and(|h| h != "block")) {
            return Err(AppError::conflict("dates_unavailable", "taken"));
        }
        for d in range.each_day() {
            days.insert((listing.clone(), d), "block".into());
        }
        Ok(())
    }
    async fn unblock_days(&self, listing: &ListingId, range: &DateRange) -> Result<(), AppError> {
        let mut days = lock(&self.days);
        for d in range.each_day() {
            if days.get(&(listing.clone(), d)).is_some_and(|h| h == "block") {
                days.remove(&(listing.clone(), d));
            }
        }
        Ok(())
    }
}
