//! `POST /bookings` (auth; not the listing's owner): books `[start_date, end_date)` of an
//! active listing. The booking and one hold per day are written in one transaction, so two
//! bookings can never hold the same day (409 `dates_unavailable` for the loser). `instant`
//! listings go to `pending_payment` (30 min hold), `request` listings to `requested` (24 h).
//! An `Idempotency-Key` makes a retried POST return the same booking, not a second one. The
//! renter's open inquiry about the listing, if any, is adopted: the booking names it
//! (`inquiry_id`) and it takes no more messages (decision 0041).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{Booking, CreateBookingRequest, DateRange, Pricing};
use shared::domain::events::kinds;
use shared::domain::Clock;
use shared::http::{header, json, json_body, with_header};
use shared::identity::Caller;
use shared::ports::{BookingReader, BookingWriter, Created, IdempotencyKey, InquiryStore, ListingReader};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// The service fee and owner commission rates.
    pub pricing: Pricing,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ListingReader + BookingReader + BookingWriter + InquiryStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let key = shared::bookings::parse_idempotency_key(header(&req, "idempotency-key"))?;
    let body = json_body::<CreateBookingRequest>(&req)?;
    let range = DateRange::parse(&body.start_date, &body.end_date)?;
    let listing = shared::bookings::public_listing(&deps.store, &body.listing_id).await?;
    let now = deps.clock.now();
    let mut booking = Booking::request(&listing, caller.user_id.clone(), range, body.message, now, deps.pricing)?;
    booking.inquiry_id = deps.store.open_inquiry(&listing.id, &caller.user_id).await?.map(|i| i.id);
    let idempotency = key.map(|key| IdempotencyKey {
        scope: caller.user_id.to_string(),
        key,
        fingerprint: format!("{}|{}|{}", listing.id, range.start, range.end),
    });
    let requested = shared::bookings::event(kinds::BOOKING_REQUESTED, &booking, Some(&caller.user_id), now);
    let (booking, replayed) = match deps.store.create_booking(&booking, idempotency.as_ref(), &requested).await? {
        Created::New => {
            tracing::info!(booking_id = %booking.id, listing_id = %listing.id, status = booking.status.as_str(), days = range.days(), event_id = %requested.id, "booking created");
            shared::metrics::count("BookingsCreated", &[("Mode", listing.booking_mode.as_str())]);
            (booking, false)
        }
        Created::Replayed(earlier) => {
            tracing::info!(booking_id = %earlier.id, "idempotent replay");
            (earlier, true)
        }
    };
    let response = with_header(json(201, &booking)?, "location", &format!("/bookings/{}", booking.id))?;
    if replayed {
        return with_header(response, "idempotent-replayed", "true");
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::testing::{FixedClock, MemoryStore};

    async fn setup() -> (Deps<MemoryStore, FixedClock>, Listing) {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default(), pricing: Default::default() };
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body: serde_json::Value = serde_json::from_str(fixture["body"].as_str().unwrap()).unwrap();
        let listing =
            Listing::create(serde_json::from_value(body).unwrap(), UserId::parse("owner-1").unwrap(), deps.clock.now())
                .unwrap();
        deps.store.seed_listing(&listing).await;
        (deps, listing)
    }

    fn request(listing: &Listing, start: &str, end: &str, key: Option<&str>) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-booking.json")).unwrap();
        v["body"] = serde_json::json!(
            serde_json::json!({"listing_id": listing.id.as_str(), "start_date": start, "end_date": end}).to_string()
        );
        match key {
            Some(k) => v["headers"]["idempotency-key"] = serde_json::json!(k),
            None => {
                v["headers"].as_object_mut().unwrap().remove("idempotency-key");
            }
        }
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn books_once_per_day_and_replays_by_key() {
        let (deps, listing) = setup().await;
        let first = handle(request(&listing, "2026-12-01", "2026-12-04", Some("k1")), &deps).await.unwrap();
        assert_eq!(first.status(), 201);
        let again = handle(request(&listing, "2026-12-01", "2026-12-04", Some("k1")), &deps).await.unwrap();
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.headers()["location"], first.headers()["location"], "the same booking");
        let err = handle(request(&listing, "2026-12-02", "2026-12-05", None), &deps).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (409, "dates_unavailable"));
        let err = handle(request(&listing, "2026-12-10", "2026-12-12", Some("k1")), &deps).await.unwrap_err();
        assert_eq!(err.code(), "idempotency_key_reused");
        assert_eq!(deps.store.bookings.lock().unwrap().len(), 1);
        assert_eq!(deps.store.event_kinds(), vec!["listing.created", "booking.requested"], "announced once");
        assert_eq!(
            handle(request(&listing, "2026-12-04", "2026-12-06", None), &deps).await.unwrap().status(),
            201,
            "end is exclusive"
        );
    }

    #[tokio::test]
    async fn adopts_the_renters_open_inquiry_once() {
        let (deps, listing) = setup().await;
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-booking.json")).unwrap();
        let renter =
            UserId::parse(fixture["requestContext"]["authorizer"]["jwt"]["claims"]["sub"].as_str().unwrap()).unwrap();
        let (inquiry, _, _) =
            shared::messages::inquire(&deps.store, listing.id.as_str(), &renter, "free then?", deps.clock.now())
                .await
                .unwrap();
        let first = handle(request(&listing, "2026-12-01", "2026-12-04", None), &deps).await.unwrap();
        let Body::Text(t) = first.body() else { panic!("a JSON body") };
        let booking: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(booking["inquiry_id"].as_str(), Some(inquiry.id.as_str()));
        let adopted = deps.store.inquiries.lock().unwrap()[&inquiry.id].clone();
        assert_eq!(adopted.booking_id.map(String::from), booking["id"].as_str().map(str::to_owned));
        let second = handle(request(&listing, "2026-12-10", "2026-12-12", None), &deps).await.unwrap();
        let Body::Text(t) = second.body() else { panic!("a JSON body") };
        assert!(serde_json::from_str::<serde_json::Value>(t).unwrap().get("inquiry_id").is_none(), "adopted once");
    }

    #[tokio::test]
    async fn refusals() {
        let (deps, listing) = setup().await;
        let err = handle(request(&listing, "2026-12-04", "2026-12-01", None), &deps).await.unwrap_err();
        assert_eq!(err.code(), "validation_failed");
        let err = handle(request(&listing, "2026-11-01", "2026-11-03", None), &deps).await.unwrap_err();
        assert_eq!(err.code(), "validation_failed", "in the past");
        let err = handle(request(&listing, "2026-12-01", "2026-12-04", Some("bad key with spaces")), &deps)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_idempotency_key");
        assert!(deps.store.bookings.lock().unwrap().is_empty());
    }
}
