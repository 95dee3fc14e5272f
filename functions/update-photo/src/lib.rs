//! `PATCH /listings/{id}/photos/{photo_id}` (owner): `{position?, is_cover?}`. One cover per
//! listing: making a photo the cover replaces the previous one. Non-owners: 404.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::listing::ListingId;
use shared::domain::photo::{PhotoId, PhotoPatch, MAX_PHOTOS_PER_LISTING};
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{ListingPhotoReader, PhotoStore};
use shared::views::PhotoView;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    pub media_base_url: String,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ListingPhotoReader + PhotoStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let listing_id = ListingId::parse(&path_param(&req, "id", "listing")?)?;
    let photo_id = PhotoId::parse(&path_param(&req, "photo_id", "photo")?)?;
    let patch = json_body::<PhotoPatch>(&req)?;
    if patch.position.is_none() && patch.is_cover.is_none() {
        return Err(AppError::bad_request("empty_patch", "send position and/or is_cover"));
    }
    if patch.position.is_some_and(|p| p >= MAX_PHOTOS_PER_LISTING * 10) {
        return Err(AppError::field("position", "must be below 200"));
    }
    let (listing, mut photo, mut cover) =
        shared::services::owned_listing_photo(&deps.store, &caller, &listing_id, &photo_id).await?;
    // The answer is the photo as read, with this patch applied: no second read.
    if let Some(position) = patch.position {
        let now = deps.clock.now();
        deps.store.set_position(&listing.id, &photo_id, position, now).await?;
        (photo.position, photo.updated_at) = (position, now);
    }
    if let Some(is_cover) = patch.is_cover {
        deps.store.set_cover(&listing.id, &photo_id, is_cover).await?;
        if is_cover {
            cover = Some(photo_id.to_string());
        } else if cover.as_deref() == Some(photo_id.as_str()) {
            cover = None;
        }
    }
    json(200, &PhotoView::new(&photo, cover.as_deref(), &deps.media_base_url))
}
