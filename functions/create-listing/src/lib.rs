//! `POST /listings` (auth): an owner lists something for rent. 201 with `Location`, `ETag`
//! and the listing; the owner is the caller. Published (`active`) only with a payout account
//! that can receive transfers (409 `payout_account_required`); drafts always.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::events::kinds;
use shared::domain::listing::{CreateListingRequest, Listing};
use shared::domain::Clock;
use shared::http::{json, json_body, with_header};
use shared::identity::Caller;
use shared::ports::{ListingWriter, ProfileStore};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ListingWriter + ProfileStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let listing = Listing::create(json_body::<CreateListingRequest>(&req)?, caller.user_id.clone(), deps.clock.now())?;
    shared::services::check_publishable(&deps.store, &listing).await?;
    deps.store
        .create_listing(&listing, &shared::services::listing_event(kinds::LISTING_CREATED, &listing, &caller))
        .await?;
    tracing::info!(listing_id = %listing.id, status = listing.status.as_str(), "listing created");
    shared::metrics::count("ListingsCreated", &[]);
    let response = with_header(json(201, &listing)?, "location", &format!("/listings/{}", listing.id))?;
    with_header(response, "etag", &listing.etag())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ports::ListingReader;
    use shared::testing::{FixedClock, MemoryStore};

    fn deps() -> Deps<MemoryStore, FixedClock> {
        Deps { store: MemoryStore::default(), clock: FixedClock::default() }
    }

    fn request(body: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        v["body"] = serde_json::Value::String(body.to_owned());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    const OWNER: &str = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10";

    #[tokio::test]
    async fn fixture_creates_a_listing() {
        let deps = deps();
        deps.store.seed_payout_ready(&shared::domain::user::UserId::parse(OWNER).unwrap());
        let req = lambda_http::request::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let resp = handle(req, &deps).await.unwrap();
        assert_eq!(resp.status(), 201);
        let Body::Text(t) = resp.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(resp.headers()["location"], format!("/listings/{}", v["id"].as_str().unwrap()));
        assert_eq!(resp.headers()["etag"], "\"1\"");
        assert_eq!(v["owner_id"], OWNER);
        assert_eq!(v["daily_price"], serde_json::json!({"amount": 1200, "currency": "EUR"}));
        let id = shared::domain::listing::ListingId::parse(v["id"].as_str().unwrap()).unwrap();
        assert!(deps.store.get_listing(&id).await.unwrap().is_some());
        assert_eq!(deps.store.event_kinds(), vec!["listing.created"]);
    }

    #[tokio::test]
    async fn bad_input_is_4xx_and_stores_nothing() {
        let deps = deps();
        for (body, code) in [
            (r#"{"title":"x"}"#, "invalid_body"),
            (r#"{"title":5}"#, "invalid_field"),
            (r#"{"colour":"red"}"#, "unknown_field"),
            (r#"{"#, "malformed_json"),
        ] {
            let err = handle(request(body), &deps).await.unwrap_err();
            assert_eq!((err.status(), err.code()), (400, code), "{body}");
        }
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let mut body: serde_json::Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
        body["max_days"] = serde_json::json!(91);
        v["body"] = serde_json::Value::String(body.to_string());
        let err = handle(lambda_http::request::from_str(&v.to_string()).unwrap(), &deps).await.unwrap_err();
        assert_eq!(err.code(), "validation_failed");
        assert!(deps.store.listings.lock().unwrap().is_empty());
        assert!(deps.store.event_kinds().is_empty());
    }

    #[tokio::test]
    async fn publishing_needs_a_payout_account_drafts_do_not() {
        let deps = deps();
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body = fixture["body"].as_str().unwrap().to_owned();
        let err = handle(request(&body), &deps).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (409, "payout_account_required"));
        assert!(deps.store.listings.lock().unwrap().is_empty());
        let draft = body.replace(r#""status": "active""#, r#""status": "draft""#);
        assert_eq!(handle(request(&draft), &deps).await.unwrap().status(), 201, "drafts need no account");
    }
}
