//! `POST /bookings/{id}/reviews` (the booking's renter or owner) with `{"rating": 1-5, "text"}`:
//! 201 with the review. Open once the item is returned (or the booking completed) for 14 days;
//! the renter rates the listing and its owner, the owner the renter. Blind: the review stays
//! hidden (`status: hidden`) until the other party writes theirs, which publishes both, or the
//! window closes. A second review by the same party: 409 `already_reviewed`. Anyone not a
//! party to the booking gets 404 (decision 0038).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::domain::review::WriteReviewRequest;
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{BookingReader, ReviewStore};
use shared::views::ReviewView;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + ReviewStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let body = json_body::<WriteReviewRequest>(&req)?;
    let review = shared::reviews::write(&deps.store, &id, &caller.user_id, &body, deps.clock.now()).await?;
    json(201, &ReviewView::of(&review))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::Booking;
    use shared::testing::{confirmed_booking, returned_booking, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, body: serde_json::Value) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/write-review.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(body.to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn review(
        deps: &Deps<MemoryStore, FixedClock>,
        b: &Booking,
        sub: &str,
        stars: i64,
    ) -> Result<serde_json::Value, AppError> {
        let resp =
            handle(request(b.id.as_str(), sub, serde_json::json!({"rating": stars, "text": "Fine"})), deps).await?;
        assert_eq!(resp.status(), 201);
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        Ok(serde_json::from_str(t).unwrap())
    }

    /// A stay returned at the fixed clock's instant.
    async fn returned(deps: &Deps<MemoryStore, FixedClock>) -> Booking {
        let b = returned_booking("2026-12-01", deps.clock.now()).unwrap();
        deps.store.seed_booking(&b).await;
        b
    }

    #[tokio::test]
    async fn blind_until_both_then_published_together_and_rated_once() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let b = returned(&deps).await;
        let first = review(&deps, &b, "renter", 5).await.unwrap();
        assert_eq!((first["status"].as_str(), first["subject_id"].as_str()), (Some("hidden"), Some("owner")));
        assert_eq!(review(&deps, &b, "renter", 4).await.unwrap_err().status(), 409, "once per party");
        assert_eq!(review(&deps, &b, "stranger", 4).await.unwrap_err().status(), 404);
        let second = review(&deps, &b, "owner", 3).await.unwrap();
        assert_eq!(second["status"], "published");
        let stored = shared::ports::ReviewStore::booking_reviews(&deps.store, &b.id).await.unwrap();
        assert!(stored.iter().all(|r| r.status.as_str() == "published"), "{stored:?}");
        let ratings = deps.store.listing_ratings.lock().unwrap()[&b.listing_id];
        assert_eq!((ratings.sum, ratings.count), (5, 1), "the renter's stars on the listing, once");
        assert_eq!(deps.store.member_stats.lock().unwrap()[&b.renter_id].rating.sum, 3);
        let kinds = deps.store.event_kinds();
        assert_eq!(
            kinds.iter().filter(|k| k.starts_with("review.")).collect::<Vec<_>>(),
            ["review.written", "review.published", "review.published"]
        );
    }

    #[tokio::test]
    async fn refused_before_the_return_and_out_of_bounds() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let out = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        deps.store.seed_booking(&out).await;
        let err = review(&deps, &out, "renter", 5).await.unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: "booking_not_finished", .. }), "{err:?}");
        let b = returned(&deps).await;
        assert_eq!(review(&deps, &b, "renter", 6).await.unwrap_err().status(), 400);
        let resp =
            handle(request(b.id.as_str(), "renter", serde_json::json!({"rating": 4.5, "text": "x"})), &deps).await;
        assert_eq!(resp.unwrap_err().status(), 400, "whole stars only");
    }
}
