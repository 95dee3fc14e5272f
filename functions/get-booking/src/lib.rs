//! `GET /bookings/{id}` (auth): the booking, for its renter and its listing's owner only;
//! 404 to anyone else, as for an id that does not exist. Each party sees the handover code
//! they hold now (`handover.code`): the renter's pickup code, the owner's return code. With `money`, the part of its ledger
//! the viewer may see: the renter what they paid and got back, the owner their share and its
//! transfer; with `deposit`, where the deposit hold stands (decision 0040); and, while
//! cancelling would refund anything, `refund_if_cancelled_now`: what the viewer cancelling
//! now would refund, by the booking's policy.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{refund_if_cancelled, BookingId, PaymentStatus};
use shared::domain::Clock;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::ports::{BookingReader, DepositStore, PayoutStore};
use shared::views::{BookingMoneyView, DepositView};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + PayoutStore + DepositStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let (booking, party) = shared::bookings::visible_booking(&deps.store, &id, &caller.user_id).await?;
    // Only a paid booking has a payout, and a deposit if its listing asked one.
    let paid = booking.payment.status == PaymentStatus::Succeeded;
    let payout = if paid { deps.store.get_payout(&id).await? } else { None };
    let deposit = if paid && booking.quote.deposit > 0 { deps.store.get_deposit(&id).await? } else { None };
    let mut body = shared::views::booking_for(&booking, party)?;
    let money = BookingMoneyView::of(&booking, payout.as_ref(), deposit.as_ref(), party);
    body["money"] = serde_json::to_value(money).map_err(AppError::internal)?;
    if let Some(d) = &deposit {
        body["deposit"] = serde_json::to_value(DepositView::of(d)).map_err(AppError::internal)?;
    }
    if let Some(plan) = refund_if_cancelled(&booking, party, deps.clock.now()) {
        body["refund_if_cancelled_now"] = serde_json::to_value(plan).map_err(AppError::internal)?;
    }
    json(200, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::payout::Payout;
    use shared::testing::{confirmed_booking, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/get-booking.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn body(resp: Response<Body>) -> serde_json::Value {
        let Body::Text(t) = resp.body() else { panic!() };
        serde_json::from_str(t).unwrap()
    }

    #[tokio::test]
    async fn each_party_sees_its_part_of_the_money() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let booking = confirmed_booking("2026-12-10", 2, 5_000).unwrap();
        deps.store.seed_booking(&booking).await;
        let payout = Payout::schedule(&booking, "ch_1".into(), 24, chrono::Utc::now());
        deps.store.save_payout(&payout, None).await.unwrap();
        let owner = body(handle(request(booking.id.as_str(), "owner"), &deps).await.unwrap()).await;
        assert_eq!(
            owner["money"],
            serde_json::json!({"currency": "EUR", "gross": 10_000, "commission": 300, "net": 9_700,
                "transfer_status": "scheduled", "scheduled_for": "2026-12-11T00:00:00Z", "transferred": 0, "reversed": 0})
        );
        let renter = body(handle(request(booking.id.as_str(), "renter"), &deps).await.unwrap()).await;
        assert_eq!(
            renter["money"],
            serde_json::json!({"currency": "EUR", "paid": booking.quote.total, "refunded": 0, "deposit_held": 0}),
            "the deposit is not held yet"
        );
        let d = shared::deposits::ensure_scheduled(
            &deps.store,
            &booking,
            Some("cus_1"),
            Some("pm_1"),
            24,
            booking.created_at,
        )
        .await
        .unwrap()
        .unwrap();
        deps.store.save_deposit(&d.held("pi_7".into(), None, d.hold_at), Some(d.version), None).await.unwrap();
        let renter = body(handle(request(booking.id.as_str(), "renter"), &deps).await.unwrap()).await;
        assert_eq!(renter["money"]["deposit_held"], 5_000);
        assert_eq!(
            (renter["deposit"]["status"].as_str(), renter["deposit"]["amount"].as_i64()),
            (Some("held"), Some(5_000))
        );
        assert!(renter["money"].get("net").is_none(), "the renter does not see the owner's share");
        let stranger = handle(request(booking.id.as_str(), "stranger"), &deps).await.unwrap_err();
        assert_eq!(stranger.status(), 404);
        // What cancelling now would refund, by the viewer's side of the policy (moderate).
        let fee = booking.quote.service_fee;
        let full = serde_json::json!({"rental": 10_000, "service_fee": fee, "deposit": 0});
        assert_eq!(renter["refund_if_cancelled_now"], full, "19 days ahead");
        let late = Deps { store: deps.store, clock: FixedClock("2026-12-08T12:00:00Z".parse().unwrap()) };
        let renter = body(handle(request(booking.id.as_str(), "renter"), &late).await.unwrap()).await;
        assert_eq!(
            renter["refund_if_cancelled_now"],
            serde_json::json!({"rental": 5_000, "service_fee": 0, "deposit": 0})
        );
        let owner = body(handle(request(booking.id.as_str(), "owner"), &late).await.unwrap()).await;
        assert_eq!(owner["refund_if_cancelled_now"], full, "an owner's cancellation refunds everything");
    }
}
