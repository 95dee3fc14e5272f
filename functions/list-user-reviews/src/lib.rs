//! `GET /users/{id}/reviews` (public): the member's published reviews, as owner and as renter, newest
//! first, paged with a signed cursor. Hidden reviews never show (decision 0038). An id with
//! no reviews, known or not, answers an empty page. Anonymous answers may be cached for 30 s.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::user::UserId;
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
    let id = UserId::parse(&path_param(&req, "id", "user")?)?;
    let params = QueryParams::only(&req, &["limit", "cursor"])?;
    let paging = Paging::from_params(&deps.cursor_keys, &params, format!("user-reviews|{id}")).await?;
    let page = deps.store.member_reviews(&id, paging.limit, paging.start.clone()).await?;
    cacheable_when_anonymous(&req, json(200, &paging.view(page.map_items(PublicReviewView::of)))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cursor::CursorKey;
    use shared::domain::review::WriteReviewRequest;
    use shared::domain::Clock;
    use shared::testing::{returned_booking, FixedClock, MemoryStore};

    fn request(id: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/list-user-reviews.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn texts(deps: &Deps<MemoryStore, CursorKey>, id: &str) -> Vec<String> {
        let resp = handle(request(id), deps).await.unwrap();
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        v["items"].as_array().unwrap().iter().map(|r| r["text"].as_str().unwrap().to_owned()).collect()
    }

    #[tokio::test]
    async fn a_members_published_reviews_as_owner_and_as_renter() {
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"test-key-0123456789") };
        let now = FixedClock::default().now();
        let b = returned_booking("2026-12-01", now).unwrap();
        deps.store.seed_booking(&b).await;
        let body = |text: &str| WriteReviewRequest { rating: 4, text: text.into() };
        shared::reviews::write(&deps.store, &b.id, &b.renter_id, &body("Kind owner"), now).await.unwrap();
        assert!(texts(&deps, "owner").await.is_empty(), "hidden until the owner writes theirs");
        shared::reviews::write(&deps.store, &b.id, &b.owner_id, &body("Tidy renter"), now).await.unwrap();
        assert_eq!(texts(&deps, "owner").await, ["Kind owner"]);
        assert_eq!(texts(&deps, "renter").await, ["Tidy renter"]);
        assert!(texts(&deps, "nobody").await.is_empty());
        assert_eq!(handle(request("USER#x"), &deps).await.unwrap_err().status(), 400);
    }
}
