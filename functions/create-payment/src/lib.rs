//! `POST /bookings/{id}/payment` (the booking's renter; booking `pending_payment`): creates,
//! or returns the existing, Stripe PaymentIntent for the booking's total (the rental and the
//! fee; the deposit is held later, decision 0040), with `metadata.booking_id` and an
//! idempotency key derived from the booking and amount, so a retry never creates a second
//! charge. The card is saved to the renter's Stripe Customer (opened at their first payment)
//! for the deposit hold. Answers what Stripe.js needs to confirm it.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{BookingId, BookingStatus, Party, PaymentStatus};
use shared::domain::user::UserId;
use shared::domain::Clock;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::ports::{BookingReader, BookingWriter, CustomerStore, DepositGateway, IntentIndex, PaymentGateway};
use shared::AppError;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
}

pub async fn handle<S, G, C>(req: Request, deps: &Deps<S, G, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + BookingWriter + IntentIndex + CustomerStore,
    G: PaymentGateway + DepositGateway,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let (mut booking, party) = shared::bookings::visible_booking(&deps.store, &id, &caller.user_id).await?;
    if party != Party::Renter {
        return Err(AppError::Forbidden);
    }
    if booking.status != BookingStatus::PendingPayment || booking.payment.status == PaymentStatus::Succeeded {
        return Err(AppError::conflict(
            "booking_not_payable",
            format!("a {} booking cannot be paid", booking.status.as_str()),
        ));
    }
    let intent = loop {
        if let Some(existing) = &booking.payment.intent_id {
            break deps.gateway.get_intent(existing).await?;
        }
        // Same booking and amount, same key: Stripe returns the first intent to a retry.
        let key = format!("booking-{}-{}-{}", booking.id, booking.quote.total, booking.quote.currency);
        let customer = customer_of(deps, &caller.user_id).await?;
        let intent = deps.gateway.create_intent(&booking, &customer, &key).await?;
        deps.store.link_intent(&intent.id, &booking.id).await?;
        let mut next = booking.clone();
        next.payment.intent_id = Some(intent.id.clone());
        next.payment.status = PaymentStatus::Pending;
        next.version += 1;
        next.updated_at = deps.clock.now();
        match deps.store.move_booking(&booking, &next, None).await {
            Ok(()) => {
                tracing::info!(booking_id = %booking.id, payment_intent = %intent.id, "payment intent created");
                break intent;
            }
            // Someone changed the booking meanwhile (a concurrent first call, expiry): read it
            // again and answer from what it is now.
            Err(AppError::PreconditionFailed) => {
                booking = shared::bookings::visible_booking(&deps.store, &id, &caller.user_id).await?.0;
                if booking.status != BookingStatus::PendingPayment {
                    return Err(AppError::conflict(
                        "booking_not_payable",
                        format!("a {} booking cannot be paid", booking.status.as_str()),
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    };
    json(200, &shared::views::payment_start(&booking.id, &intent, deps.gateway.publishable_key().await?))
}

/// The renter's Stripe Customer, opened at their first payment (one per member: the same
/// idempotency key, and the first link wins a race).
async fn customer_of<S, G, C>(deps: &Deps<S, G, C>, renter: &UserId) -> Result<String, AppError>
where
    S: CustomerStore,
    G: DepositGateway,
{
    if let Some(id) = deps.store.customer_of(renter).await? {
        return Ok(id);
    }
    let id = deps.gateway.create_customer(renter, &format!("customer-{renter}")).await?;
    deps.store.link_customer(renter, &id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::{Booking, DateRange};
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::testing::{FakeGateway, FixedClock, MemoryStore};

    const RENTER: &str = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10";

    #[tokio::test]
    async fn creates_once_then_returns_the_same_intent() {
        let deps =
            Deps { store: MemoryStore::default(), gateway: FakeGateway::default(), clock: FixedClock::default() };
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body: serde_json::Value = serde_json::from_str(fixture["body"].as_str().unwrap()).unwrap();
        let listing =
            Listing::create(serde_json::from_value(body).unwrap(), UserId::parse("owner").unwrap(), deps.clock.now())
                .unwrap();
        let booking = Booking::request(
            &listing,
            UserId::parse(RENTER).unwrap(),
            DateRange::parse("2026-12-01", "2026-12-04").unwrap(),
            None,
            deps.clock.now(),
            Default::default(),
        )
        .unwrap();
        deps.store.seed_booking(&booking).await;
        let request = || {
            let mut v: serde_json::Value =
                serde_json::from_str(include_str!("../../../events/create-payment.json")).unwrap();
            v["pathParameters"]["id"] = serde_json::json!(booking.id.as_str());
            lambda_http::request::from_str(&v.to_string()).unwrap()
        };
        let first = handle(request(), &deps).await.unwrap();
        let second = handle(request(), &deps).await.unwrap();
        let (Body::Text(a), Body::Text(b)) = (first.body(), second.body()) else { panic!() };
        assert_eq!(a, b, "the same intent, not a second");
        let v: serde_json::Value = serde_json::from_str(a).unwrap();
        assert_eq!(
            (v["amount"].as_i64(), v["currency"].as_str(), v["publishable_key"].as_str()),
            (Some(booking.quote.total), Some("EUR"), Some("pk_test_fake"))
        );
        assert_eq!(deps.gateway.intents.lock().unwrap().len(), 1);
        assert_eq!(deps.gateway.customers.lock().unwrap().len(), 1, "the renter's Customer, opened once");
        assert_eq!(deps.store.customers.lock().unwrap().get(&booking.renter_id).map(String::as_str), Some("cus_1"));
    }
}
