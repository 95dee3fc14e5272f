//! `POST /listings/{id}/inquiries` (auth; not the listing's owner) with `{"message"}`: asks the
//! owner of an active listing before booking. The caller's first inquiry about it opens a
//! thread (201, `Location: /inquiries/{id}/messages`); while that one is open, the next goes
//! into it (200). Contact details are masked (nothing is paid), the sender's limits are those of
//! booking threads (429 with `Retry-After`), and the owner is told in-app. The renter's next
//! booking of the listing adopts the inquiry (decision 0041).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::inquiry::InquiryRequest;
use shared::domain::Clock;
use shared::http::{json, json_body, path_param, with_header};
use shared::identity::Caller;
use shared::ports::{InquiryStore, ListingReader, MessageStore};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ListingReader + InquiryStore + MessageStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let listing = path_param(&req, "id", "listing")?;
    let body = json_body::<InquiryRequest>(&req)?;
    let now = deps.clock.now();
    let (inquiry, message, opened) =
        shared::messages::inquire(&deps.store, &listing, &caller.user_id, &body.message, now).await?;
    let mut view = serde_json::to_value(&inquiry).map_err(AppError::internal)?;
    view["message"] = serde_json::to_value(&message).map_err(AppError::internal)?;
    if !opened {
        return json(200, &view);
    }
    with_header(json(201, &view)?, "location", &format!("/inquiries/{}/messages", inquiry.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::testing::{FixedClock, MemoryStore};

    fn request(listing: &str, sub: &str, message: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/open-inquiry.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(listing);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(serde_json::json!({ "message": message }).to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn setup() -> (Deps<MemoryStore, FixedClock>, Listing) {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body: serde_json::Value = serde_json::from_str(fixture["body"].as_str().unwrap()).unwrap();
        let listing =
            Listing::create(serde_json::from_value(body).unwrap(), UserId::parse("owner").unwrap(), deps.clock.now())
                .unwrap();
        deps.store.seed_listing(&listing).await;
        (deps, listing)
    }

    fn body(resp: &Response<Body>) -> serde_json::Value {
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        serde_json::from_str(t).unwrap()
    }

    #[tokio::test]
    async fn opens_one_thread_per_renter_and_masks_it() {
        let (deps, listing) = setup().await;
        let first =
            handle(request(listing.id.as_str(), "renter", "free? call +49 151 2345 6789"), &deps).await.unwrap();
        assert_eq!(first.status(), 201);
        let opened = body(&first);
        let id = opened["id"].as_str().unwrap().to_owned();
        assert_eq!(first.headers()["location"], format!("/inquiries/{id}/messages").as_str());
        assert_eq!(opened["message"]["text"], "free? call [phone hidden]");
        assert_eq!(
            (opened["owner_id"].as_str(), opened["message"]["inquiry_id"].as_str()),
            (Some("owner"), Some(id.as_str()))
        );
        let again = handle(request(listing.id.as_str(), "renter", "still free?"), &deps).await.unwrap();
        assert_eq!((again.status().as_u16(), body(&again)["id"].as_str()), (200, Some(id.as_str())), "the same thread");
        let other = handle(request(listing.id.as_str(), "renter-2", "me too"), &deps).await.unwrap();
        assert_ne!(body(&other)["id"].as_str(), Some(id.as_str()), "another renter's own");
        assert_eq!(deps.store.event_kinds().iter().filter(|k| *k == "message.sent").count(), 3);
    }

    #[tokio::test]
    async fn refuses_owners_unknown_listings_and_empty_messages() {
        let (deps, listing) = setup().await;
        let err = handle(request(listing.id.as_str(), "owner", "hi"), &deps).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (409, "own_listing"));
        let unknown = shared::domain::listing::ListingId::generate();
        assert_eq!(handle(request(unknown.as_str(), "renter", "hi"), &deps).await.unwrap_err().status(), 404);
        assert_eq!(handle(request(listing.id.as_str(), "renter", " "), &deps).await.unwrap_err().status(), 400);
        assert!(deps.store.inquiries.lock().unwrap().is_empty(), "nothing opened");
    }
}
