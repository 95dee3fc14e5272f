//! `GET /listings/{id}/reviews` (public): the listing's published reviews (renters' reviews of it and its owner), newest
//! first, paged with a signed cursor. Hidden reviews never show (decision 0038). An id with
//! no reviews, known or not, answers an empty page. Anonymous answers may be cached for 30 s.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::listing::ListingId;
use shared::http::{cacheable_when_anonymous, json, path_param};
use shared::paging::{Paging, QueryParams};
use shared::ports::{CursorKeys, ReviewStore};
use shared::views::PublicReviewView;
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: ReviewStore,
    K: CursorKeys,
{
    let id = ListingId::parse(&path_param(&req, "id", "listing")?)?;
    let params = QueryParams::only(&req, &["limit", "cursor"])?;
    let paging = Paging::from_params(&deps.cursor_keys, &params, format!("listing-reviews|{id}")).await?;
    let page = deps.store.listing_reviews(&id, paging.limit, paging.start.clone()).await?;
    cacheable_when_anonymous(&req, json(200, &paging.view(page.map_items(PublicReviewView::of)))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cursor::CursorKey;
    use shared::domain::review::WriteReviewRequest;
    use shared::domain::Clock;
    use shared::testing::{returned_booking, FixedClock, MemoryStore};

    fn request(id: &str, query: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/list-listing-reviews.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["rawQueryString"] = serde_json::json!(query);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn published_reviews_newest_first_and_never_hidden_ones() {
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"test-key-0123456789") };
        let now = FixedClock::default().now();
        let listing = shared::domain::listing::ListingId::generate();
        let write = |b, who: &str, stars, at| {
            let (store, who) = (&deps.store, shared::domain::user::UserId::parse(who).unwrap());
            async move {
                let body = WriteReviewRequest { rating: stars, text: format!("{stars} stars") };
                shared::reviews::write(store, &b, &who, &body, at).await.unwrap()
            }
        };
        for n in 0..3 {
            let mut b = returned_booking(&format!("2026-12-{:02}", 1 + 4 * n), now).unwrap();
            b.listing_id = listing.clone();
            deps.store.seed_booking(&b).await;
            let at = now + chrono::Duration::minutes(n);
            write(b.id.clone(), "renter", 3 + n, at).await;
            if n < 2 {
                write(b.id.clone(), "owner", 1, at).await; // publishes both
            }
        }
        let resp = handle(request(listing.as_str(), "limit=1"), &deps).await.unwrap();
        assert_eq!(resp.headers()["cache-control"], "public, max-age=30");
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        let first: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(first["items"][0]["text"], "4 stars", "the newest published; the hidden one is left out");
        assert!(first["items"][0].get("booking_id").is_none(), "never the booking");
        let cursor = first["next_cursor"].as_str().unwrap();
        let resp = handle(request(listing.as_str(), &format!("cursor={cursor}")), &deps).await.unwrap();
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        let rest: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!((rest["items"][0]["text"].as_str(), rest["next_cursor"].is_null()), (Some("3 stars"), true));
        let other = shared::domain::listing::ListingId::generate();
        let resp = handle(request(other.as_str(), &format!("cursor={cursor}")), &deps).await;
        assert_eq!(resp.unwrap_err().status(), 400, "a cursor is the listing's own");
    }
}
