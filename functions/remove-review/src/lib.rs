//! `POST /reviews/{id}/removal` (operators only) with `{"reason"}` (1-500 characters): 200 with
//! the review, now `removed`: gone from every list, its stars taken back from the listing's and
//! the member's ratings in the same write, its author told. The event (`review.removed`, with
//! the operator and the reason) is the audit record. Anyone not in the `operators` group: 403;
//! a hidden review 409 `review_not_published`, a removed one 409 `review_removed` (decision 0038).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::review::RemovalRequest;
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::ReviewStore;
use shared::views::ReviewView;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ReviewStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = path_param(&req, "id", "review")?;
    let body = json_body::<RemovalRequest>(&req)?;
    let review = shared::reviews::remove(&deps.store, &id, &caller, &body, deps.clock.now()).await?;
    json(200, &ReviewView::of(&review))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::review::WriteReviewRequest;
    use shared::testing::{returned_booking, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, groups: &str, reason: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/remove-review.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = serde_json::json!(groups);
        v["body"] = serde_json::json!(serde_json::json!({ "reason": reason }).to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn operators_remove_a_published_review_and_its_stars() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let now = deps.clock.now();
        let b = returned_booking("2026-12-01", now).unwrap();
        deps.store.seed_booking(&b).await;
        let body = |t: &str| WriteReviewRequest { rating: 1, text: t.into() };
        let rude =
            shared::reviews::write(&deps.store, &b.id, &b.renter_id, &body("Call me: 0151..."), now).await.unwrap();
        let id = rude.id().to_string();
        let err = handle(request(&id, "op", "[operators]", "Personal data"), &deps).await.unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: "review_not_published", .. }), "{err:?}");
        shared::reviews::write(&deps.store, &b.id, &b.owner_id, &body("Fine"), now).await.unwrap();
        let owner_rating = || deps.store.member_stats.lock().unwrap()[&b.owner_id].rating.count;
        assert_eq!(owner_rating(), 1);
        assert_eq!(handle(request(&id, "owner", "[owners]", "I dislike it"), &deps).await.unwrap_err().status(), 403);
        let resp = handle(request(&id, "op", "[operators]", "Personal data"), &deps).await.unwrap();
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        assert_eq!(serde_json::from_str::<serde_json::Value>(t).unwrap()["status"], "removed");
        assert_eq!(owner_rating(), 0, "its stars taken back");
        assert_eq!(deps.store.listing_ratings.lock().unwrap()[&b.listing_id].count, 0);
        let err = handle(request(&id, "op", "[operators]", "Again"), &deps).await.unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: "review_removed", .. }), "{err:?}");
        let page = shared::ports::ReviewStore::listing_reviews(&deps.store, &b.listing_id, 10, None).await.unwrap();
        assert!(page.items.is_empty(), "gone from the lists");
        let removal = deps.store.events.lock().unwrap().last().cloned().unwrap();
        assert_eq!((removal.kind.as_str(), removal.actor.as_deref()), ("review.removed", Some("op")));
        assert_eq!(removal.data["reason"], "Personal data");
    }
}
