//! Reviews and rating totals, with the adapter's conditions: published once, rated once.

use super::*;
use crate::domain::review::{RatingTotals, Review, ReviewId, ReviewStatus};
use crate::ports::ReviewStore;

impl MemoryStore {
    /// Adds a published review's stars to its subject's totals and its listing's (`back`:
    /// takes them back).
    fn rate(&self, r: &Review, back: bool) {
        let stars = u64::from(r.rating);
        let moved = |t: RatingTotals| match back {
            false => RatingTotals { sum: t.sum + stars, count: t.count + 1 },
            true => RatingTotals { sum: t.sum.saturating_sub(stars), count: t.count.saturating_sub(1) },
        };
        let mut stats = lock(&self.member_stats);
        let rating = &mut stats.entry(r.subject_id.clone()).or_default().rating;
        *rating = moved(*rating);
        if let Some(listing) = r.rated_listing() {
            let mut ratings = lock(&self.listing_ratings);
            let totals = ratings.entry(listing.clone()).or_default();
            *totals = moved(*totals);
        }
    }

    fn published_newest_first(
        &self,
        keep: impl Fn(&Review) -> bool,
        limit: u32,
        start: Option<LastKey>,
    ) -> Page<Review> {
        let mut mine: Vec<(String, Review)> = lock(&self.reviews)
            .values()
            .filter(|r| r.status == ReviewStatus::Published && keep(r))
            .map(|r| {
                let at = r.published_at.map(|t| t.timestamp_millis()).unwrap_or_default();
                (format!("R#{at:013}#{}#{:?}", r.booking_id, r.author_role), r.clone())
            })
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        page_of(mine, limit, start)
    }
}

#[async_trait]
impl ReviewStore for MemoryStore {
    async fn booking_reviews(&self, booking: &BookingId) -> Result<Vec<Review>, AppError> {
        Ok(lock(&self.reviews).iter().filter(|((b, _), _)| b == booking).map(|(_, r)| r.clone()).collect())
    }

    async fn add_review(
        &self,
        review: &Review,
        other: Option<&Review>,
        events: &[DomainEvent],
    ) -> Result<(), AppError> {
        let mut reviews = lock(&self.reviews);
        let other_role = if review.author_role == Party::Renter { Party::Owner } else { Party::Renter };
        let stored_other = reviews.get(&(review.booking_id.clone(), other_role));
        let other_as_expected = match other {
            Some(_) => stored_other.is_some_and(|o| o.status == ReviewStatus::Hidden),
            None => stored_other.is_none_or(|o| o.status != ReviewStatus::Hidden),
        };
        if reviews.contains_key(&(review.booking_id.clone(), review.author_role)) || !other_as_expected {
            return Err(AppError::PreconditionFailed);
        }
        for r in std::iter::once(review).chain(other) {
            reviews.insert((r.booking_id.clone(), r.author_role), r.clone());
        }
        drop(reviews);
        for r in std::iter::once(review).chain(other).filter(|r| r.status == ReviewStatus::Published) {
            self.rate(r, false);
        }
        events.iter().for_each(|e| self.outbox(e));
        Ok(())
    }

    async fn publish_review(&self, review: &Review, event: &DomainEvent) -> Result<bool, AppError> {
        let mut reviews = lock(&self.reviews);
        let key = (review.booking_id.clone(), review.author_role);
        if reviews.get(&key).is_none_or(|r| r.status != ReviewStatus::Hidden) {
            return Ok(false);
        }
        reviews.insert(key, review.clone());
        drop(reviews);
        self.rate(review, false);
        self.outbox(event);
        Ok(true)
    }

    async fn get_review(&self, id: &ReviewId) -> Result<Option<Review>, AppError> {
        Ok(lock(&self.reviews).get(&(id.booking_id.clone(), id.author_role)).cloned())
    }

    async fn update_review(&self, previous: &Review, next: &Review, event: &DomainEvent) -> Result<bool, AppError> {
        let mut reviews = lock(&self.reviews);
        let key = (next.booking_id.clone(), next.author_role);
        let unchanged = reviews
            .get(&key)
            .is_some_and(|r| r.status == previous.status && r.answer.is_some() == previous.answer.is_some());
        if !unchanged {
            return Ok(false);
        }
        reviews.insert(key, next.clone());
        drop(reviews);
        if previous.status == ReviewStatus::Published && next.status != ReviewStatus::Published {
            self.rate(previous, true);
        }
        self.outbox(event);
        Ok(true)
    }

    async fn due_reviews(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<(BookingId, Party)>, AppError> {
        let mut due: Vec<(DateTime<Utc>, BookingId, Party)> = lock(&self.reviews)
            .values()
            .filter(|r| r.status == ReviewStatus::Hidden && r.window_closes_at <= now)
            .map(|r| (r.window_closes_at, r.booking_id.clone(), r.author_role))
            .collect();
        due.sort_by_key(|d| d.0);
        Ok(due.into_iter().take(limit as usize).map(|(_, b, p)| (b, p)).collect())
    }

    async fn listing_reviews(
        &self,
        listing: &ListingId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Review>, AppError> {
        Ok(self.published_newest_first(|r| r.rated_listing() == Some(listing), limit, start))
    }

    async fn member_reviews(
        &self,
        member: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Review>, AppError> {
        Ok(self.published_newest_first(|r| &r.subject_id == member, limit, start))
    }
}
