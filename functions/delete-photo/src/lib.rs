//! `DELETE /listings/{id}/photos/{photo_id}` (owner): removes the record and every object
//! (the original and its renditions) -> 204. Non-owners and unknown photos: 404.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::listing::ListingId;
use shared::domain::photo::PhotoId;
use shared::http::{empty, path_param};
use shared::identity::Caller;
use shared::ports::{ListingPhotoReader, PhotoObjects, PhotoStore};
use shared::AppError;

pub struct Deps<S, O> {
    pub store: S,
    pub objects: O,
}

pub async fn handle<S, O>(req: Request, deps: &Deps<S, O>) -> Result<Response<Body>, AppError>
where
    S: ListingPhotoReader + PhotoStore,
    O: PhotoObjects,
{
    let caller = Caller::from_request(&req)?;
    let listing_id = ListingId::parse(&path_param(&req, "id", "listing")?)?;
    let photo_id = PhotoId::parse(&path_param(&req, "photo_id", "photo")?)?;
    let (listing, photo, _) =
        shared::services::owned_listing_photo(&deps.store, &caller, &listing_id, &photo_id).await?;
    // The record first: once it is gone, a late S3 event for the original is dropped cleanly.
    if !deps.store.remove_photo(&listing.id, &photo.id).await? {
        return Err(AppError::NotFound("photo"));
    }
    deps.objects.delete_objects(&[photo.original_key()], &photo.rendition_keys()).await?;
    tracing::info!(listing_id = %listing.id, photo_id = %photo.id, "photo deleted");
    empty(204)
}
