//! `POST /listings/{id}/quote` (public): what `[start_date, end_date)` would cost, and
//! whether the days are free right now, without booking anything.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{check_range, DateRange, Party, Pricing, Quote, RangeRequest};
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::ports::{Calendar, ListingReader};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// The service fee and owner commission rates.
    pub pricing: Pricing,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ListingReader + Calendar,
    C: Clock,
{
    let body = json_body::<RangeRequest>(&req)?;
    let range = DateRange::parse(&body.start_date, &body.end_date)?;
    let listing = shared::bookings::public_listing(&deps.store, &path_param(&req, "id", "listing")?).await?;
    check_range(&listing, &range, deps.clock.now().date_naive())?;
    let quote = Quote::compute(range.days(), listing.daily_price, listing.deposit, deps.pricing)?;
    let available = deps.store.unavailable_days(&listing.id, &range).await?.is_empty();
    let policy = listing.cancellation_policy;
    // Were the renter to book, pay and cancel right now.
    let refund_now = policy.refund(&quote, range.start, Party::Renter, deps.clock.now());
    json(
        200,
        &serde_json::json!({
            "listing_id": listing.id, "start_date": range.start, "end_date": range.end, "available": available,
            "quote": quote, "cancellation": {"policy": policy, "refund_if_cancelled_now": refund_now}
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::ports::Calendar;
    use shared::testing::{FixedClock, MemoryStore};

    #[tokio::test]
    async fn quotes_and_tells_availability() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default(), pricing: Default::default() };
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body: serde_json::Value = serde_json::from_str(fixture["body"].as_str().unwrap()).unwrap();
        let listing =
            Listing::create(serde_json::from_value(body).unwrap(), UserId::parse("owner").unwrap(), deps.clock.now())
                .unwrap();
        deps.store.seed_listing(&listing).await;
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/quote-booking.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(listing.id.as_str());
        let resp = handle(lambda_http::request::from_str(&v.to_string()).unwrap(), &deps).await.unwrap();
        let Body::Text(t) = resp.body() else { panic!() };
        let q: serde_json::Value = serde_json::from_str(t).unwrap();
        // Fixture: 3 days x 12.00 EUR, 10% fee, 50.00 deposit (held on the card, not charged).
        assert_eq!(q["quote"]["rental"], 3600);
        assert_eq!(q["quote"]["service_fee"], 360);
        assert_eq!((q["quote"]["total"].as_i64(), q["quote"]["deposit"].as_i64()), (Some(3600 + 360), Some(5000)));
        assert_eq!(q["available"], true);
        assert_eq!(
            q["cancellation"],
            serde_json::json!({"policy": "moderate",
                "refund_if_cancelled_now": {"rental": 3600, "service_fee": 360, "deposit": 0}}),
            "more than 5 days ahead: everything back"
        );
        deps.store.block_days(&listing.id, &DateRange::parse("2026-12-02", "2026-12-03").unwrap()).await.unwrap();
        let resp = handle(lambda_http::request::from_str(&v.to_string()).unwrap(), &deps).await.unwrap();
        let Body::Text(t) = resp.body() else { panic!() };
        assert_eq!(serde_json::from_str::<serde_json::Value>(t).unwrap()["available"], false);
    }
}
