//! `POST /inquiries/{id}/messages` (the inquiry's renter or owner) with `{"text"}`: 201 with the
//! message, its recipient told in-app. Masked as every inquiry message is (nothing is paid),
//! within the sender's limits of booking threads (429 with `Retry-After`). Once a booking has
//! adopted the inquiry, 409 `inquiry_booked`: the talk goes on in the booking's thread. Anyone
//! not a party gets 404 (decision 0041).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::inquiry::InquiryId;
use shared::domain::message::PostMessageRequest;
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{InquiryStore, MessageStore};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: InquiryStore + MessageStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = InquiryId::parse(&path_param(&req, "id", "inquiry")?)?;
    let body = json_body::<PostMessageRequest>(&req)?;
    let message =
        shared::messages::post_in_inquiry(&deps.store, &id, &caller.user_id, &body.text, deps.clock.now()).await?;
    json(201, &message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::{inquiry_of, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, text: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/post-inquiry-message.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(serde_json::json!({ "text": text }).to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn parties_write_masked_until_a_booking_adopts_it() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let inquiry = inquiry_of(&deps.store, "renter", "owner").await.unwrap();
        let resp = handle(request(inquiry.id.as_str(), "owner", "see www.drills.example.com"), &deps).await.unwrap();
        assert_eq!(resp.status(), 201);
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        let m: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!((m["text"].as_str(), m["masked"].as_bool()), (Some("see [link hidden]"), Some(true)));
        let err = handle(request(inquiry.id.as_str(), "stranger", "hi"), &deps).await.unwrap_err();
        assert_eq!(err.status(), 404);
        let unknown = InquiryId::generate();
        assert_eq!(handle(request(unknown.as_str(), "owner", "hi"), &deps).await.unwrap_err().status(), 404);
        deps.store.inquiries.lock().unwrap().get_mut(&inquiry.id).unwrap().booking_id =
            Some(shared::domain::booking::BookingId::generate());
        let err = handle(request(inquiry.id.as_str(), "renter", "and now?"), &deps).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (409, "inquiry_booked"));
    }
}
