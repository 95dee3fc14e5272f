//! `GET /listings/{id}/photos` (public; token optional): the listing's photos. Its owner sees
//! every photo with its status (pending, ready, rejected with the reason); everyone else sees
//! the ready ones of a listing they may see. Ready photos carry rendition URLs and sizes.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::listing::ListingId;
use shared::domain::photo::PhotoStatus;
use shared::http::{header, json, path_param};
use shared::ports::{ListingDetail, ListingDetailReader, ViewerIdentity};
use shared::views::PhotoView;
use shared::AppError;

pub struct Deps<S, V> {
    pub store: S,
    pub viewer: V,
    pub media_base_url: String,
}

pub async fn handle<S, V>(req: Request, deps: &Deps<S, V>) -> Result<Response<Body>, AppError>
where
    S: ListingDetailReader,
    V: ViewerIdentity,
{
    let id = ListingId::parse(&path_param(&req, "id", "listing")?)?;
    let viewer = deps.viewer.viewer(header(&req, "authorization")).await?;
    let viewer_id = viewer.as_ref().map(|c| &c.user_id);
    let ListingDetail { listing, photos, cover, .. } = deps
        .store
        .listing_detail(&id)
        .await?
        .filter(|d| d.listing.visible_to(viewer_id))
        .ok_or(AppError::NotFound("listing"))?;
    let is_owner = viewer_id == Some(&listing.owner_id);
    let items: Vec<PhotoView> = photos
        .iter()
        .filter(|p| is_owner || p.status == PhotoStatus::Ready)
        .map(|p| PhotoView::new(p, cover.as_deref(), &deps.media_base_url))
        .collect();
    json(200, &serde_json::json!({ "items": items }))
}
