//! `POST /bookings/{id}/messages/read` (the booking's renter or owner) with `{"up_to"}`: the
//! caller has read the thread up to that message (a read receipt the other party sees on
//! `GET /bookings/{id}/messages`). Answers the caller's unread count for the thread. Never
//! moves back: an older message changes nothing. Anyone not a party gets 404, as does a
//! message not in the thread (decision 0037).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
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
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let body = json_body::<ReadRequest>(&req)?;
    let unread = shared::messages::mark_read(&deps.store, &ThreadId::Booking(id), &caller.user_id, &body.up_to).await?;
    json(200, &serde_json::json!({ "unread": unread }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::Clock;
    use shared::testing::{confirmed_booking, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, up_to: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/read-messages.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(serde_json::json!({ "up_to": up_to }).to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn unread(deps: &Deps<MemoryStore>, id: &str, sub: &str, up_to: &str) -> Result<serde_json::Value, AppError> {
        let resp = handle(request(id, sub, up_to), deps).await?;
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        Ok(serde_json::from_str::<serde_json::Value>(t).unwrap()["unread"].clone())
    }

    #[tokio::test]
    async fn reading_counts_down_what_the_other_party_sent_and_never_back() {
        let deps = Deps { store: MemoryStore::default() };
        let b = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        deps.store.seed_booking(&b).await;
        let now = FixedClock::default().now();
        let mut sent = Vec::new();
        for n in 0..3 {
            let at = now + chrono::Duration::seconds(n);
            sent.push(shared::messages::post(&deps.store, &b.id, &b.renter_id, &format!("m{n}"), at).await.unwrap());
        }
        let mine = shared::messages::post(&deps.store, &b.id, &b.owner_id, "reply", now).await.unwrap();
        let id = b.id.as_str();
        assert_eq!(unread(&deps, id, "owner", sent[1].id.as_str()).await.unwrap(), 1, "m2 is still unread");
        assert_eq!(unread(&deps, id, "owner", sent[0].id.as_str()).await.unwrap(), 1, "reading back changes nothing");
        assert_eq!(unread(&deps, id, "owner", sent[2].id.as_str()).await.unwrap(), 0);
        assert_eq!(unread(&deps, id, "renter", mine.id.as_str()).await.unwrap(), 0);
        assert_eq!(unread(&deps, id, "stranger", mine.id.as_str()).await.unwrap_err().status(), 404);
        let other = shared::domain::message::MessageId::generate();
        assert_eq!(unread(&deps, id, "owner", other.as_str()).await.unwrap_err().status(), 404, "not in this thread");
        assert_eq!(unread(&deps, id, "owner", "nope").await.unwrap_err().status(), 400);
    }
}
