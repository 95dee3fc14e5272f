//! `POST /bookings/{id}/messages` (the booking's renter or owner) with `{"text"}`: 201 with the
//! message, its recipient told in-app. Unless the booking is confirmed (or later), e-mail addresses, phone
//! numbers and links are masked as it is stored (`masked: true`). A sender may send 30
//! messages a minute and 200 a day over all threads: beyond, 429 with `Retry-After`. Anyone
//! not a party to the booking gets 404 (decision 0037).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::domain::message::PostMessageRequest;
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{BookingReader, MessageStore};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + MessageStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let body = json_body::<PostMessageRequest>(&req)?;
    let message = shared::messages::post(&deps.store, &id, &caller.user_id, &body.text, deps.clock.now()).await?;
    json(201, &message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::{BookingStatus, PaymentStatus};
    use shared::testing::{confirmed_booking, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, text: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/post-message.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(serde_json::json!({ "text": text }).to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn post(
        deps: &Deps<MemoryStore, FixedClock>,
        id: &str,
        sub: &str,
        text: &str,
    ) -> Result<serde_json::Value, AppError> {
        let resp = handle(request(id, sub, text), deps).await?;
        assert_eq!(resp.status(), 201);
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        Ok(serde_json::from_str(t).unwrap())
    }

    #[tokio::test]
    async fn parties_write_masked_until_paid_and_strangers_cannot() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let mut unpaid = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        unpaid.status = BookingStatus::PendingPayment;
        unpaid.payment.status = PaymentStatus::Pending;
        let paid = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        deps.store.seed_booking(&unpaid).await;
        deps.store.seed_booking(&paid).await;

        let m = post(&deps, unpaid.id.as_str(), "renter", "mail me at ada@example.com").await.unwrap();
        assert_eq!((m["text"].as_str(), m["masked"].as_bool()), (Some("mail me at [e-mail hidden]"), Some(true)));
        let m = post(&deps, paid.id.as_str(), "owner", "mail me at ada@example.com").await.unwrap();
        assert_eq!((m["text"].as_str(), m["masked"].as_bool()), (Some("mail me at ada@example.com"), Some(false)));
        assert_eq!(post(&deps, paid.id.as_str(), "stranger", "hi").await.unwrap_err().status(), 404);
        let mut cancelled = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        cancelled.status = BookingStatus::Cancelled;
        deps.store.seed_booking(&cancelled).await;
        let m = post(&deps, cancelled.id.as_str(), "owner", "mail me at ada@example.com").await.unwrap();
        assert_eq!(m["masked"], true, "paid, then cancelled: masked again");
        assert_eq!(post(&deps, paid.id.as_str(), "owner", " ").await.unwrap_err().status(), 400);
        assert_eq!(deps.store.event_kinds().iter().filter(|k| *k == "message.sent").count(), 3);
    }

    #[tokio::test]
    async fn thirty_a_minute() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let b = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        deps.store.seed_booking(&b).await;
        for n in 0..30 {
            post(&deps, b.id.as_str(), "renter", &format!("message {n}")).await.unwrap();
        }
        let err = post(&deps, b.id.as_str(), "renter", "one more").await.unwrap_err();
        // FixedClock reads 12:00:00: the minute's window ends in 60 s.
        assert!(matches!(err, AppError::TooManyRequests { retry_after: 60 }), "{err:?}");
        post(&deps, b.id.as_str(), "owner", "the other party has its own limit").await.unwrap();
    }
}
