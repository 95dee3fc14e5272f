//! `POST /reviews/{id}/answer` (the reviewed member) with `{"text"}` (1-1,000 characters): 200
//! with the review and its answer, shown with it wherever it is listed. Once (409
//! `already_answered`); anyone else 403; a review not public (hidden, removed, or no such id)
//! 404. The author is told (decision 0038).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::review::AnswerRequest;
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
    let body = json_body::<AnswerRequest>(&req)?;
    let review = shared::reviews::answer(&deps.store, &id, &caller.user_id, &body, deps.clock.now()).await?;
    json(200, &ReviewView::of(&review))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::review::WriteReviewRequest;
    use shared::testing::{returned_booking, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, text: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/answer-review.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(serde_json::json!({ "text": text }).to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn the_reviewed_member_answers_a_public_review_once() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let b = returned_booking("2026-12-01", deps.clock.now()).unwrap();
        deps.store.seed_booking(&b).await;
        let body = |t: &str| WriteReviewRequest { rating: 2, text: t.into() };
        let now = deps.clock.now();
        let renters =
            shared::reviews::write(&deps.store, &b.id, &b.renter_id, &body("Blunt blade"), now).await.unwrap();
        let id = renters.id().to_string();
        assert_eq!(handle(request(&id, "owner", "Sorry"), &deps).await.unwrap_err().status(), 404, "hidden yet");
        shared::reviews::write(&deps.store, &b.id, &b.owner_id, &body("Late"), now).await.unwrap();
        assert_eq!(handle(request(&id, "renter", "Me too"), &deps).await.unwrap_err().status(), 403);
        let resp = handle(request(&id, "owner", "Sharpened it since"), &deps).await.unwrap();
        assert_eq!(resp.status(), 200);
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!((v["id"].as_str(), v["answer"]["text"].as_str()), (Some(id.as_str()), Some("Sharpened it since")));
        let err = handle(request(&id, "owner", "Again"), &deps).await.unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: "already_answered", .. }), "{err:?}");
        assert_eq!(handle(request("nope", "owner", "x"), &deps).await.unwrap_err().status(), 404);
        assert_eq!(deps.store.event_kinds().last().map(String::as_str), Some("review.answered"));
    }
}
