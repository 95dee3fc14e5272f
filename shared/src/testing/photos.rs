//! Photo records.

use super::*;

#[async_trait]
impl crate::ports::PhotoStore for MemoryStore {
    async fn add_photo(&self, photo: &crate::domain::photo::Photo, max: u32) -> Result<(), AppError> {
        let mut photos = lock(&self.photos);
        if photos.iter().filter(|p| p.listing_id == photo.listing_id).count() >= max as usize {
            return Err(AppError::conflict("too_many_photos", "full"));
        }
        photos.push(photo.clone());
        Ok(())
    }
    async fn get_photo(
        &self,
        listing: &ListingId,
        id: &crate::domain::photo::PhotoId,
    ) -> Result<Option<crate::domain::photo::Photo>, AppError> {
        Ok(lock(&self.photos).iter().find(|p| &p.listing_id == listing && &p.id == id).cloned())
    }
    async fn photos_of(
        &self,
        listing: &ListingId,
    ) -> Result<(Vec<crate::domain::photo::Photo>, Option<String>), AppError> {
        let mut mine: Vec<_> = lock(&self.photos).iter().filter(|p| &p.listing_id == listing).cloned().collect();
        mine.sort_by_key(|p| (p.position, p.created_at));
        Ok((mine, None))
    }
    async fn remove_photo(&self, listing: &ListingId, id: &crate::domain::photo::PhotoId) -> Result<bool, AppError> {
        let mut photos = lock(&self.photos);
        let before = photos.len();
        photos.retain(|p| !(&p.listing_id == listing && &p.id == id));
        Ok(photos.len() < before)
    }
    async fn set_position(
        &self,
        listing: &ListingId,
        id: &crate::domain::photo::PhotoId,
        position: u32,
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let mut photos = lock(&self.photos);
        let p =
            photos.iter_mut().find(|p| &p.listing_id == listing && &p.id == id).ok_or(AppError::NotFound("photo"))?;
        p.position = position;
        Ok(())
    }
    async fn set_cover(
        &self,
        _listing: &ListingId,
        _id: &crate::domain::photo::PhotoId,
        _cover: bool,
    ) -> Result<(), AppError> {
        Ok(())
    }
    async fn finish_photo(&self, finished: &crate::domain::photo::Photo) -> Result<Recorded, AppError> {
        let mut photos = lock(&self.photos);
        match photos.iter_mut().find(|p| p.id == finished.id) {
            Some(p) if p.status == crate::domain::photo::PhotoStatus::PendingUpload => {
                *p = finished.clone();
                Ok(Recorded::New)
            }
            _ => Ok(Recorded::Duplicate),
        }
    }
}
