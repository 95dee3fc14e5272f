//! `POST /bookings/{id}/return`: the renter with `{"code"}`, the 6-digit code the owner's
//! booking shows, or the owner with `{}`: `in_progress` -> `returned`, releasing what is left of
//! the days, announced and notified to both. A return later than the end plus the grace period
//! (`LATE_RETURN_GRACE_HOURS`, default 2) records a daily price per started day past the end
//! (`handover.late_days`, `late_fee`). Wrong codes count and lock as for the pickup. Anyone
//! not a party gets 404; other states 409 naming the state.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{BookingId, HandoverRequest, Step};
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{BookingReader, BookingWriter};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// How long after the end a return is still on time.
    pub grace: chrono::Duration,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + BookingWriter,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let body = json_body::<HandoverRequest>(&req)?;
    let step = Step::Return { grace: deps.grace };
    let booking =
        shared::handover::hand_over(&deps.store, &id, &caller.user_id, step, body.code.as_deref(), deps.clock.now())
            .await?;
    let party = booking.party(&caller.user_id).ok_or(AppError::NotFound("booking"))?;
    json(200, &shared::views::booking_for(&booking, party)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::{Booking, BookingStatus, Transition};
    use shared::testing::{confirmed_booking, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, body: serde_json::Value) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/return-booking.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(body.to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    /// A 3-day stay from 2026-11-18 (ends 2026-11-21 00:00), picked up at its start.
    fn picked_up() -> Booking {
        let b = confirmed_booking("2026-11-18", 3, 1_500).unwrap();
        let mut out = b.moved(Transition::PickUp, b.pickup_opens_at()).unwrap();
        out.handover.picked_up_at = Some(b.pickup_opens_at());
        out
    }

    fn deps_at(rfc3339: &str) -> Deps<MemoryStore, FixedClock> {
        let at = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc();
        Deps { store: MemoryStore::default(), clock: FixedClock(at), grace: chrono::Duration::hours(2) }
    }

    #[tokio::test]
    async fn the_renter_returns_with_the_owners_code_late_days_cost_a_daily_price() {
        // 2026-11-22 09:00 is past the end (11-21 00:00) and its 2-hour grace: 2 started days.
        let deps = deps_at("2026-11-22T09:00:00Z");
        let b = picked_up();
        deps.store.seed_booking(&b).await;
        let id = b.id.as_str();
        let err = handle(request(id, "renter", serde_json::json!({})), &deps).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "validation_failed"), "the renter needs the code");
        assert_eq!(handle(request(id, "stranger", serde_json::json!({})), &deps).await.unwrap_err().status(), 404);

        let resp = handle(request(id, "renter", serde_json::json!({"code": b.handover.return_code.as_str()})), &deps)
            .await
            .unwrap();
        let Body::Text(t) = resp.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(v["status"], "returned");
        assert_eq!((v["handover"]["late_days"].as_i64(), v["handover"]["late_fee"].as_i64()), (Some(2), Some(3_000)));
        assert_eq!(v["handover"]["return_confirmed_by"], "renter");
        assert!(v["handover"].get("code").is_none(), "no code to show once returned");
        assert_eq!(deps.store.event_kinds(), vec!["booking.requested", "booking.returned"]);
    }

    #[tokio::test]
    async fn the_owner_confirms_without_a_code_and_within_the_grace_it_is_on_time() {
        let deps = deps_at("2026-11-21T01:59:00Z");
        let b = picked_up();
        deps.store.seed_booking(&b).await;
        let resp = handle(request(b.id.as_str(), "owner", serde_json::json!({})), &deps).await.unwrap();
        assert_eq!(resp.status(), 200);
        let stored = deps.store.bookings.lock().unwrap()[&b.id].clone();
        assert_eq!(
            (stored.status, stored.handover.late_days, stored.handover.late_fee),
            (BookingStatus::Returned, 0, 0)
        );
        let again = handle(request(b.id.as_str(), "owner", serde_json::json!({})), &deps).await.unwrap_err();
        assert_eq!(again.code(), "booking_is_returned");
    }
}
