//! `POST /listings/{id}/photos` (owner): `{content_type, size_bytes}` -> 201 with `photo_id`
//! and a presigned PUT (15 minutes) that only accepts exactly that type and length. The key
//! is chosen here (`uploads/listings/{listing}/{photo}`), never from user input. The photo is
//! recorded as `pending_upload`; at most 20 per listing (409 beyond).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::listing::{ListingId, ListingStatus};
use shared::domain::photo::{Photo, UploadRequest, UploadSpec, MAX_PHOTOS_PER_LISTING, UPLOAD_URL_SECS};
use shared::domain::Clock;
use shared::http::{json, json_body, path_param, with_header};
use shared::identity::Caller;
use shared::ports::{ListingPhotoReader, PhotoStore, UploadUrls};
use shared::AppError;

pub struct Deps<S, U, C> {
    pub store: S,
    pub uploads: U,
    pub clock: C,
}

pub async fn handle<S, U, C>(req: Request, deps: &Deps<S, U, C>) -> Result<Response<Body>, AppError>
where
    S: ListingPhotoReader + PhotoStore,
    U: UploadUrls,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = ListingId::parse(&path_param(&req, "id", "listing")?)?;
    let spec = UploadSpec::parse(&json_body::<UploadRequest>(&req)?)?;
    let (listing, photo_count) = shared::services::owned_listing_photo_count(&deps.store, &caller, &id).await?;
    if listing.status == ListingStatus::Archived {
        return Err(AppError::conflict("listing_archived", "an archived listing takes no new photos"));
    }
    let now = deps.clock.now();
    let photo = Photo::pending(listing.id.clone(), &spec, photo_count, now);
    deps.store.add_photo(&photo, MAX_PHOTOS_PER_LISTING).await?;
    let upload = deps
        .uploads
        .presign_put(
            &photo.original_key(),
            spec.content_type,
            spec.size_bytes,
            std::time::Duration::from_secs(UPLOAD_URL_SECS),
            now,
        )
        .await?;
    tracing::info!(listing_id = %listing.id, photo_id = %photo.id, size_bytes = spec.size_bytes, "photo upload presigned");
    let response = json(
        201,
        &serde_json::json!({
            "photo_id": photo.id, "status": "pending_upload",
            "upload": { "url": upload.url, "method": upload.method, "headers": upload.headers },
            "expires_at": upload.expires_at,
        }),
    )?;
    with_header(response, "location", &format!("/listings/{}/photos/{}", listing.id, photo.id))
}
