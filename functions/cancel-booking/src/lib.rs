//! `POST /bookings/{id}/cancel` (renter or owner) with `{"reason"}`: -> `cancelled`, releasing
//! the days in the same transaction. A confirmed, paid booking is refunded through Stripe per
//! its cancellation policy (`refund_if_cancelled`; an owner's cancellation refunds everything),
//! with the booking's one refund idempotency key; the refund is recorded as requested and
//! confirmed by the `charge.refunded` webhook. A deposit hold is released (decision 0040); if
//! Stripe cannot now, `hold-deposits` retries it.
//! Anyone who is not a party to the booking gets 404; a move the state machine does not
//! allow is 409 with a code naming the current state.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{refund_if_cancelled, BookingId, CancelRequest, RefundStatus, Transition};
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{BookingReader, BookingWriter, DepositGateway, DepositStore, PaymentGateway, PayoutStore};
use shared::AppError;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
}

pub async fn handle<S, G, C>(req: Request, deps: &Deps<S, G, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + BookingWriter + PayoutStore + DepositStore,
    G: PaymentGateway + DepositGateway,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let body = json_body::<CancelRequest>(&req)?;
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::field("reason", "must be 1-500 characters"));
    }
    let (booking, party) = shared::bookings::visible_booking(&deps.store, &id, &caller.user_id).await?;
    let now = deps.clock.now();
    // The state machine decides first; money only moves for a cancellation it allows.
    booking.status.after(Transition::Cancel)?;
    let refund = match (refund_if_cancelled(&booking, party, now), &booking.payment.intent_id) {
        (Some(plan), Some(intent)) => {
            let refund =
                deps.gateway.refund(intent, plan.total(), id.as_str(), &shared::payments::refund_key(&id)).await?;
            tracing::info!(booking_id = %id, refund_id = %refund.id, amount = plan.total(), "cancellation refunded");
            shared::metrics::count("Refunds", &[("Reason", "cancellation")]);
            Some((plan, refund.id))
        }
        _ => None,
    };
    let booking =
        shared::bookings::move_booking(&deps.store, &id, Transition::Cancel, now, Some(&caller.user_id), |b| {
            b.cancelled_by = Some(party);
            b.cancel_reason = Some(reason.clone());
            if let Some((plan, refund_id)) = &refund {
                b.payment.refund_status = RefundStatus::Requested;
                b.payment.refund_amount = plan.total();
                b.payment.refund_plan = *plan;
                b.payment.refund_id = Some(refund_id.clone());
            }
        })
        .await?;
    // The deposit hold goes first: the cancellation stands whatever happens to it (a failure is
    // recorded and retried by the deposit task).
    shared::deposits::release_after_cancellation(&deps.store, &deps.gateway, &booking, now).await;
    // The owner's payout follows the refund (lowered; the payout task reverses a transfer made).
    // Stripe's `charge.refunded` makes the payment worker repeat this, should it fail here.
    if refund.is_some() {
        shared::payouts::apply_refund(&deps.store, &booking, now).await?;
    }
    json(200, &booking)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::{Booking, BookingStatus, DateRange, PaymentStatus};
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::testing::{FakeGateway, FixedClock, MemoryStore};

    const RENTER: &str = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10";

    #[tokio::test]
    async fn cancelling_a_paid_booking_refunds_per_policy_once() {
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
        {
            let mut all = deps.store.bookings.lock().unwrap();
            let b = all.get_mut(&booking.id).unwrap();
            b.status = BookingStatus::Confirmed;
            b.payment.status = PaymentStatus::Succeeded;
            b.payment.intent_id = Some("pi_9".into());
        }
        // Its deposit is held already (the hold was placed a lead of 10 days before the start).
        let paid = deps.store.bookings.lock().unwrap()[&booking.id].clone();
        let now = deps.clock.now();
        shared::deposits::ensure_scheduled(&deps.store, &paid, Some("cus_1"), Some("pm_1"), 240, now).await.unwrap();
        shared::deposits::advance(&deps.store, &deps.gateway, &paid, Default::default(), now).await.unwrap();
        assert_eq!(deps.gateway.hold_states(), vec!["held"]);
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/cancel-booking.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(booking.id.as_str());
        let resp = handle(lambda_http::request::from_str(&v.to_string()).unwrap(), &deps).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(deps.gateway.hold_states(), vec!["released"], "the hold goes with the booking");
        assert!(deps.store.event_kinds().contains(&"booking.deposit_released".to_owned()));
        // Renter, more than 48 h ahead: everything back (3 x 12.00 + 10%; the deposit is held,
        // never charged).
        assert_eq!(
            *deps.gateway.refunds.lock().unwrap(),
            vec![("pi_9".to_owned(), 3600 + 360, format!("refund-{}", booking.id))]
        );
        let stored = deps.store.bookings.lock().unwrap()[&booking.id].clone();
        assert_eq!(
            (stored.status, stored.payment.refund_status, stored.payment.refund_amount),
            (BookingStatus::Cancelled, RefundStatus::Requested, 3960)
        );
        let again = handle(lambda_http::request::from_str(&v.to_string()).unwrap(), &deps).await.unwrap_err();
        assert_eq!(again.code(), "booking_is_cancelled");
        assert_eq!(deps.gateway.refunds.lock().unwrap().len(), 1);
    }
}
