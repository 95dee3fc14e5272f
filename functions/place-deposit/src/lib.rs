//! `POST /bookings/{id}/deposit` (the booking's renter): after the deposit hold on their saved
//! card was refused (declined, authentication required) or lapsed, a hold of the deposit for
//! them to confirm with Stripe.js, with a card of their choice (saved for later renewals).
//! Repeats answer the same PaymentIntent; Stripe's `payment_intent.amount_capturable_updated`
//! puts it in force (decision 0040). 409 `deposit_not_needed` when no hold is missing; 403
//! for the owner; 404 for anyone else.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{BookingId, Party};
use shared::domain::Clock;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::ports::{BookingReader, DepositGateway, DepositStore, PaymentGateway};
use shared::AppError;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
}

pub async fn handle<S, G, C>(req: Request, deps: &Deps<S, G, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + DepositStore,
    G: PaymentGateway + DepositGateway,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let (booking, party) = shared::bookings::visible_booking(&deps.store, &id, &caller.user_id).await?;
    if party != Party::Renter {
        return Err(AppError::Forbidden);
    }
    let intent = shared::deposits::replacement_hold(&deps.store, &deps.gateway, &booking, deps.clock.now()).await?;
    tracing::info!(booking_id = %id, payment_intent = %intent.id, "deposit hold for the renter to confirm");
    json(200, &shared::views::payment_start(&booking.id, &intent, deps.gateway.publishable_key().await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::{confirmed_booking, FakeGateway, FixedClock, MemoryStore};

    const RENTER: &str = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10";

    fn request(id: &str, sub: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/place-deposit.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn only_a_missing_hold_is_asked_of_the_renter_once() {
        let deps =
            Deps { store: MemoryStore::default(), gateway: FakeGateway::default(), clock: FixedClock::default() };
        let mut booking = confirmed_booking("2026-12-10", 3, 4_000).unwrap();
        booking.renter_id = shared::domain::user::UserId::parse(RENTER).unwrap();
        deps.store.seed_booking(&booking).await;
        let id = booking.id.to_string();
        let now = deps.clock.now();
        shared::deposits::ensure_scheduled(&deps.store, &booking, Some("cus_1"), Some("pm_1"), 24, now).await.unwrap();
        let refused = handle(request(&id, RENTER), &deps).await.unwrap_err();
        assert_eq!(refused.code(), "deposit_not_needed", "nothing failed yet");

        *deps.gateway.refuse_holds.lock().unwrap() = Some("card_declined".into());
        let placed = deps.store.deposits.lock().unwrap()[&booking.id].hold_at;
        shared::deposits::advance(&deps.store, &deps.gateway, &booking, Default::default(), placed).await.unwrap();
        assert_eq!(handle(request(&id, "owner"), &deps).await.unwrap_err().status(), 403);
        assert_eq!(handle(request(&id, "stranger"), &deps).await.unwrap_err().status(), 404);
        let first = handle(request(&id, RENTER), &deps).await.unwrap();
        let second = handle(request(&id, RENTER), &deps).await.unwrap();
        let (Body::Text(a), Body::Text(b)) = (first.body(), second.body()) else { panic!() };
        assert_eq!(a, b, "the same hold to confirm, not a second");
        let v: serde_json::Value = serde_json::from_str(a).unwrap();
        assert_eq!((v["amount"].as_i64(), v["currency"].as_str()), (Some(5_000), Some("EUR")));
        let d = deps.store.deposits.lock().unwrap()[&booking.id].clone();
        assert_eq!(d.pending_intent.as_deref(), v["payment_intent_id"].as_str());
    }
}
