//! `POST /bookings/{id}/claims` (the booking's owner) with `{amount, description, evidence}`:
//! claims `amount` (minor units, at most the deposit) from the deposit hold for damage, citing
//! evidence files the owner uploaded and the check accepted. Open from the return until the
//! claim window closes (`ClaimWindowHours`): else 409 `claim_not_open` or `claim_window_closed`;
//! one claim per booking (409 `claim_exists`). 201 with the claim and `Location`. The hold is
//! kept until the claim is settled; the renter is told to answer within 48 hours (decision 0043).

mod wiring;
pub use wiring::run;

use chrono::Duration;
use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::domain::claim::ClaimRequest;
use shared::domain::Clock;
use shared::http::{json, json_body, path_param, with_header};
use shared::identity::Caller;
use shared::ports::ClaimStore;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// How long after the return the owner may claim.
    pub claim_window: Duration,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ClaimStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let body = json_body::<ClaimRequest>(&req)?;
    let now = deps.clock.now();
    let claim = shared::claims::file(&deps.store, &id, &caller, body, deps.claim_window, now).await?;
    with_header(json(201, &claim)?, "location", &format!("/bookings/{id}/claim"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::{claimable, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, body: serde_json::Value) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/file-claim.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(body.to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn the_owner_files_once_within_the_window() {
        let clock = FixedClock::default();
        let deps = Deps { store: MemoryStore::default(), clock, claim_window: Duration::hours(48) };
        let (b, _) = claimable(&deps.store, deps.clock.now()).await.unwrap();
        let body = serde_json::json!({"amount": 2000, "description": "Cracked lens"});
        let status = |r: Result<Response<Body>, AppError>| r.map_or_else(|e| e.status(), |r| r.status().as_u16());
        assert_eq!(status(handle(request(b.id.as_str(), "renter", body.clone()), &deps).await), 403);
        assert_eq!(status(handle(request(b.id.as_str(), "stranger", body.clone()), &deps).await), 404);
        let resp = handle(request(b.id.as_str(), "owner", body.clone()), &deps).await.unwrap();
        assert_eq!(resp.status(), 201);
        assert_eq!(resp.headers()["location"], format!("/bookings/{}/claim", b.id));
        let again = handle(request(b.id.as_str(), "owner", body), &deps).await.unwrap_err();
        assert_eq!(again.code(), "claim_exists");
        let late = Deps {
            store: MemoryStore::default(),
            clock: FixedClock(deps.clock.now() + Duration::hours(48)),
            claim_window: Duration::hours(48),
        };
        let (b, _) = claimable(&late.store, deps.clock.now()).await.unwrap();
        let body = serde_json::json!({"amount": 2000, "description": "Cracked lens"});
        assert_eq!(
            handle(request(b.id.as_str(), "owner", body), &late).await.unwrap_err().code(),
            "claim_window_closed"
        );
    }
}
