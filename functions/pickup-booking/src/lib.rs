//! `POST /bookings/{id}/pickup` (the listing's owner) with `{"code"}`, the 6-digit code the
//! renter's booking shows: `confirmed` -> `in_progress`, announced and notified to both. Open
//! from 24 h before the start, and never before payment (only a confirmed booking is paid).
//! Five wrong codes lock the booking's handover for 15 minutes (429 with `Retry-After`). The
//! renter gets 403, anyone else 404; other states 409 naming the state. The answer shows the
//! owner their return code.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{BookingId, HandoverRequest, Party, Step};
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{BookingReader, BookingWriter};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + BookingWriter,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let body = json_body::<HandoverRequest>(&req)?;
    let now = deps.clock.now();
    let booking =
        shared::handover::hand_over(&deps.store, &id, &caller.user_id, Step::PickUp, body.code.as_deref(), now).await?;
    json(200, &shared::views::booking_for(&booking, Party::Owner)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::BookingStatus;
    use shared::testing::{confirmed_booking, FixedClock, MemoryStore};

    const OWNER: &str = "owner";

    fn request(id: &str, sub: &str, code: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/pickup-booking.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(serde_json::json!({ "code": code }).to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn answer(deps: &Deps<MemoryStore, FixedClock>, req: Request) -> (u16, serde_json::Value, Option<String>) {
        let resp = match handle(req, deps).await {
            Ok(resp) => resp,
            Err(e) => shared::http::problem_response(&e, "r"),
        };
        let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        (resp.status().as_u16(), serde_json::from_str(t).unwrap(), retry)
    }

    #[tokio::test]
    async fn the_owner_confirms_with_the_renters_code_and_wrong_codes_lock() {
        // FixedClock: 2026-11-21 12:00; the stay starts the next day, so the pickup is open.
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let booking = confirmed_booking("2026-11-22", 3, 1000).unwrap();
        deps.store.seed_booking(&booking).await;
        let id = booking.id.as_str();
        let right = booking.handover.pickup_code.as_str().to_owned();
        let wrong = if right == "000000" { "000001" } else { "000000" };

        let (status, body, _) = answer(&deps, request(id, "renter", &right)).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "the renter cannot confirm a pickup");
        assert_eq!(answer(&deps, request(id, "stranger", &right)).await.0, 404);
        let (status, body, _) = answer(&deps, request(id, OWNER, "12345")).await;
        assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("code")), "not 6 digits: not a try");

        for left in (1..=4).rev() {
            let (status, body, _) = answer(&deps, request(id, OWNER, wrong)).await;
            assert_eq!(status, 400);
            assert!(body["detail"].as_str().unwrap().contains(&format!("{left} more tries")), "{body}");
        }
        let (status, _, retry) = answer(&deps, request(id, OWNER, wrong)).await;
        assert_eq!((status, retry.as_deref()), (429, Some("900")), "the fifth wrong code locks for 15 minutes");
        let (status, _, _) = answer(&deps, request(id, OWNER, &right)).await;
        assert_eq!(status, 429, "even the right code waits out the lock");
        let stored = deps.store.bookings.lock().unwrap()[&booking.id].clone();
        assert_eq!(stored.status, BookingStatus::Confirmed);
        assert_eq!(deps.store.event_kinds(), vec!["booking.requested"], "wrong codes announce nothing");

        // After the lock: the right code moves it, and the owner now sees their return code.
        let later =
            Deps { store: deps.store, clock: FixedClock(FixedClock::default().0 + chrono::Duration::minutes(15)) };
        let (status, body, _) = answer(&later, request(id, OWNER, &right)).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("in_progress")), "{body}");
        assert_eq!(body["handover"]["code"].as_str(), Some(booking.handover.return_code.as_str()));
        assert!(body["handover"]["picked_up_at"].is_string());
        assert!(!body.to_string().contains(&format!("\"{right}\"")), "the pickup code is spent and not shown");
        assert_eq!(later.store.event_kinds(), vec!["booking.requested", "booking.picked_up"]);
        let (status, body, _) = answer(&later, request(id, OWNER, &right)).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("booking_is_in_progress")));
    }

    #[tokio::test]
    async fn the_pickup_opens_a_day_before_the_start() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let booking = confirmed_booking("2026-11-23", 2, 1000).unwrap();
        deps.store.seed_booking(&booking).await;
        let (status, body, _) =
            answer(&deps, request(booking.id.as_str(), OWNER, booking.handover.pickup_code.as_str())).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("pickup_not_open")), "{body}");
        assert!(body["detail"].as_str().unwrap().contains("2026-11-22T00:00:00"));
    }
}
