//! `GET /listings/{id}` (public): active listings to anyone; drafts, paused and archived
//! listings to their owner, and archived ones also to anyone who booked it (a signed-in
//! caller's token is verified here, since the route has no authorizer). Everyone else gets
//! 404, as for an id that does not exist.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::listing::Listing;
use shared::domain::listing::{ListingId, ListingStatus};
use shared::domain::photo::PhotoStatus;
use shared::http::{header, json, path_param, with_header};
use shared::ports::{ListingDetail, ListingDetailReader, ListingRenters, ViewerIdentity};
use shared::views::{PhotoView, RatingView};
use shared::AppError;

pub struct Deps<S, V> {
    pub store: S,
    pub viewer: V,
    pub media_base_url: String,
}

/// The listing and its ready photos, in order.
#[derive(serde::Serialize)]
struct ListingWithPhotos<'a> {
    #[serde(flatten)]
    listing: &'a Listing,
    photos: Vec<PhotoView>,
    rating: RatingView,
}

pub async fn handle<S, V>(req: Request, deps: &Deps<S, V>) -> Result<Response<Body>, AppError>
where
    S: ListingDetailReader + ListingRenters,
    V: ViewerIdentity,
{
    let id = ListingId::parse(&path_param(&req, "id", "listing")?)?;
    let viewer = deps.viewer.viewer(header(&req, "authorization")).await?;
    let viewer_id = viewer.as_ref().map(|c| &c.user_id);
    let ListingDetail { listing, photos, cover, rating } =
        deps.store.listing_detail(&id).await?.ok_or(AppError::NotFound("listing"))?;
    let visible = listing.visible_to(viewer_id)
        || match (listing.status, viewer_id) {
            (ListingStatus::Archived, Some(user)) => deps.store.has_booked(&listing.id, user).await?,
            _ => false,
        };
    if !visible {
        return Err(AppError::NotFound("listing"));
    }
    let photos = photos
        .iter()
        .filter(|p| p.status == PhotoStatus::Ready)
        .map(|p| PhotoView::new(p, cover.as_deref(), &deps.media_base_url))
        .collect();
    let body = ListingWithPhotos { listing: &listing, photos, rating: RatingView::of(rating) };
    let mut response = with_header(json(200, &body)?, "etag", &listing.etag())?;
    if viewer.is_none() && listing.status == ListingStatus::Active {
        // Anonymous views of active listings may be cached briefly by browsers and CDNs.
        response = with_header(response, "cache-control", "public, max-age=30")?;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::listing::{Listing, PatchListingRequest};
    use shared::domain::user::UserId;
    use shared::domain::Clock;
    use shared::testing::{FixedClock, MemoryStore, TrustingViewer};

    const OWNER: &str = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10";

    async fn store_with(status: &str) -> (MemoryStore, Listing) {
        let store = MemoryStore::default();
        let body: serde_json::Value = serde_json::from_str(
            serde_json::from_str::<serde_json::Value>(include_str!("../../../events/create-listing.json")).unwrap()
                ["body"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let mut listing = Listing::create(
            serde_json::from_value(body).unwrap(),
            UserId::parse(OWNER).unwrap(),
            FixedClock::default().now(),
        )
        .unwrap();
        if status != "active" {
            let patch: PatchListingRequest = serde_json::from_value(serde_json::json!({ "status": status })).unwrap();
            listing = listing.apply(patch, FixedClock::default().now()).unwrap();
        }
        store.seed_listing(&listing).await;
        (store, listing)
    }

    fn request(id: &str, auth: Option<&str>) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/get-listing.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        if let Some(a) = auth {
            v["headers"]["authorization"] = serde_json::json!(a);
        }
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn status_for(status: &str, auth: Option<&str>) -> u16 {
        let (store, listing) = store_with(status).await;
        let deps = Deps { store, viewer: TrustingViewer, media_base_url: "https://media.test".into() };
        match handle(request(listing.id.as_str(), auth), &deps).await {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.status(),
        }
    }

    #[tokio::test]
    async fn visibility_by_status_and_viewer() {
        let owner = format!("Bearer {OWNER}");
        let stranger = "Bearer someone-else";
        assert_eq!(status_for("active", None).await, 200);
        assert_eq!(status_for("active", Some(stranger)).await, 200);
        for hidden in ["paused", "archived"] {
            assert_eq!(status_for(hidden, None).await, 404, "{hidden} anonymous");
            assert_eq!(status_for(hidden, Some(stranger)).await, 404, "{hidden} stranger");
            assert_eq!(status_for(hidden, Some(&owner)).await, 200, "{hidden} owner");
        }
        assert_eq!(status_for("active", Some("Bearer bad")).await, 401, "a token that does not verify");
    }

    #[tokio::test]
    async fn anonymous_active_is_cacheable_and_carries_etag() {
        let (store, listing) = store_with("active").await;
        let deps = Deps { store, viewer: TrustingViewer, media_base_url: "https://media.test".into() };
        let resp = handle(request(listing.id.as_str(), None), &deps).await.unwrap();
        assert_eq!(resp.headers()["etag"], "\"1\"");
        assert_eq!(resp.headers()["cache-control"], "public, max-age=30");
        let resp = handle(request(listing.id.as_str(), Some(&format!("Bearer {OWNER}"))), &deps).await.unwrap();
        assert!(resp.headers().get("cache-control").is_none(), "the HTTP layer makes it no-store");
    }

    #[tokio::test]
    async fn unknown_and_malformed_ids_are_404() {
        let deps =
            Deps { store: MemoryStore::default(), viewer: TrustingViewer, media_base_url: "https://media.test".into() };
        for id in [ListingId::generate().to_string(), "not-a-uuid".to_owned()] {
            assert_eq!(handle(request(&id, None), &deps).await.unwrap_err().status(), 404, "{id}");
        }
    }
}
