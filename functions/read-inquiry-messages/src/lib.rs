//! `POST /inquiries/{id}/messages/read` (the inquiry's renter or owner) with `{"up_to"}`: the
//! caller has read the inquiry's thread up to that message (the other party sees it on
//! `GET /inquiries/{id}/messages`). Answers the caller's unread count; never moves back. Anyone
//! not a party gets 404, as does a message not in the thread (decisions 0037, 0041).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::inquiry::InquiryId;
use shared::domain::message::{ReadRequest, ThreadId};
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::MessageStore;
use shared::AppError;

pub struct Deps<S> {
    pub store: S,
}

pub async fn handle<S>(req: Request, deps: &Deps<S>) -> Result<Response<Body>, AppError>
where
    S: MessageStore,
{
    let caller = Caller::from_request(&req)?;
    let id = InquiryId::parse(&path_param(&req, "id", "inquiry")?)?;
    let body = json_body::<ReadRequest>(&req)?;
    let unread = shared::messages::mark_read(&deps.store, &ThreadId::Inquiry(id), &caller.user_id, &body.up_to).await?;
    json(200, &serde_json::json!({ "unread": unread }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::Clock;
    use shared::testing::{inquiry_of, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, up_to: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/read-inquiry-messages.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(serde_json::json!({ "up_to": up_to }).to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn the_owner_reads_what_the_renter_asked() {
        let deps = Deps { store: MemoryStore::default() };
        let inquiry = inquiry_of(&deps.store, "renter", "owner").await.unwrap();
        let later = FixedClock::default().now() + chrono::Duration::minutes(1);
        let second = shared::messages::post_in_inquiry(&deps.store, &inquiry.id, &inquiry.renter_id, "and?", later)
            .await
            .unwrap();
        let first = deps.store.messages.lock().unwrap()[0].id.clone();
        let unread = |resp: Response<Body>| {
            let Body::Text(t) = resp.body() else { panic!("a JSON body") };
            serde_json::from_str::<serde_json::Value>(t).unwrap()["unread"].as_u64()
        };
        assert_eq!(
            unread(handle(request(inquiry.id.as_str(), "owner", first.as_str()), &deps).await.unwrap()),
            Some(1)
        );
        assert_eq!(
            unread(handle(request(inquiry.id.as_str(), "owner", second.id.as_str()), &deps).await.unwrap()),
            Some(0)
        );
        let err = handle(request(inquiry.id.as_str(), "stranger", second.id.as_str()), &deps).await.unwrap_err();
        assert_eq!(err.status(), 404);
        let err = handle(request(inquiry.id.as_str(), "owner", "not-an-id"), &deps).await.unwrap_err();
        assert_eq!(err.status(), 400);
    }
}
