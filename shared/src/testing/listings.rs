//! Listings, search and the owner's list.

use super::*;

#[async_trait]
impl ListingReader for MemoryStore {
    async fn get_listing(&self, id: &ListingId) -> Result<Option<Listing>, AppError> {
        Ok(lock(&self.listings).get(id).cloned())
    }
}

#[async_trait]
impl crate::ports::ListingDetailReader for MemoryStore {
    async fn listing_detail(&self, id: &ListingId) -> Result<Option<crate::ports::ListingDetail>, AppError> {
        let Some(listing) = self.get_listing(id).await? else { return Ok(None) };
        let (photos, cover) = crate::ports::PhotoStore::photos_of(self, id).await?;
        let rating = lock(&self.listing_ratings).get(id).copied().unwrap_or_default();
        Ok(Some(crate::ports::ListingDetail { listing, photos, cover, rating }))
    }
}

#[async_trait]
impl crate::ports::ListingPhotoReader for MemoryStore {
    async fn listing_with_photo_count(&self, id: &ListingId) -> Result<Option<(Listing, u32)>, AppError> {
        let Some(listing) = self.get_listing(id).await? else { return Ok(None) };
        let count = lock(&self.photos).iter().filter(|p| &p.listing_id == id).count();
        Ok(Some((listing, u32::try_from(count).map_err(AppError::internal)?)))
    }
    async fn listing_with_photo(
        &self,
        id: &ListingId,
        photo: &crate::domain::photo::PhotoId,
    ) -> Result<Option<crate::ports::ListingPhoto>, AppError> {
        let Some(crate::ports::ListingDetail { listing, photos, cover, .. }) =
            crate::ports::ListingDetailReader::listing_detail(self, id).await?
        else {
            return Ok(None);
        };
        Ok(Some(crate::ports::ListingPhoto { listing, photo: photos.into_iter().find(|p| &p.id == photo), cover }))
    }
}

#[async_trait]
impl ListingWriter for MemoryStore {
    async fn create_listing(&self, listing: &Listing, event: &DomainEvent) -> Result<(), AppError> {
        lock(&self.listings).insert(listing.id.clone(), listing.clone());
        self.outbox(event);
        Ok(())
    }
    async fn replace_listing(&self, previous: &Listing, next: &Listing, event: &DomainEvent) -> Result<(), AppError> {
        let mut listings = lock(&self.listings);
        match listings.get(&previous.id) {
            Some(current) if current.version == previous.version => {
                listings.insert(next.id.clone(), next.clone());
                self.outbox(event);
                Ok(())
            }
            _ => Err(AppError::PreconditionFailed),
        }
    }
}

#[async_trait]
impl OwnerListings for MemoryStore {
    async fn owner_listings(
        &self,
        owner: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<OwnedListingSummary>, AppError> {
        let mut mine: Vec<(String, OwnedListingSummary)> = lock(&self.listings)
            .values()
            .filter(|l| &l.owner_id == owner)
            .map(|l| (format!("{:013}#{}", l.created_at.timestamp_millis(), l.id), l.into()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }
}

#[async_trait]
impl crate::ports::ListingSnapshots for MemoryStore {
    async fn snapshot(
        &self,
        id: &ListingId,
        from: chrono::NaiveDate,
    ) -> Result<Option<crate::ports::ListingSnapshot>, AppError> {
        let Some(listing) = lock(&self.listings).get(id).cloned() else { return Ok(None) };
        let mut days: Vec<_> =
            lock(&self.days).keys().filter(|(l, d)| l == id && *d >= from).map(|(_, d)| *d).collect();
        days.sort_unstable();
        let rating = lock(&self.listing_ratings).get(id).copied().unwrap_or_default();
        Ok(Some((listing, days, rating)))
    }
}
