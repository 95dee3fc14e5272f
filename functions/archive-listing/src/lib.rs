//! `DELETE /listings/{id}` (owner): archives the listing (soft delete) -> 204. It leaves
//! search at once and cannot be booked, but stays readable by its owner. Repeating the call
//! is a no-op 204. An `If-Match` is optional here; when sent it must be current (412).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::events::kinds;
use shared::domain::listing::{check_if_match, ListingId, ListingStatus};
use shared::domain::Clock;
use shared::http::{empty, header, path_param};
use shared::identity::Caller;
use shared::ports::{ListingReader, ListingWriter};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ListingReader + ListingWriter,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = ListingId::parse(&path_param(&req, "id", "listing")?)?;
    let current = shared::services::owned_listing(&deps.store, &caller, &id).await?;
    if let Some(tag) = header(&req, "if-match") {
        check_if_match(Some(tag), current.version)?;
    }
    if current.status == ListingStatus::Archived {
        return empty(204);
    }
    let archived = current.archive(deps.clock.now());
    let event = shared::services::listing_event(kinds::LISTING_ARCHIVED, &archived, &caller);
    deps.store.replace_listing(&current, &archived, &event).await?;
    tracing::info!(listing_id = %id, "listing archived");
    empty(204)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::testing::{FixedClock, MemoryStore};

    const OWNER: &str = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10";

    fn request(id: &str, sub: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/archive-listing.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn archives_once_owner_only() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body: serde_json::Value = serde_json::from_str(fixture["body"].as_str().unwrap()).unwrap();
        let listing =
            Listing::create(serde_json::from_value(body).unwrap(), UserId::parse(OWNER).unwrap(), deps.clock.now())
                .unwrap();
        deps.store.seed_listing(&listing).await;

        assert_eq!(handle(request(listing.id.as_str(), "stranger"), &deps).await.unwrap_err().status(), 404);
        assert_eq!(deps.store.listings.lock().unwrap()[&listing.id].status, ListingStatus::Active);
        for _ in 0..2 {
            assert_eq!(handle(request(listing.id.as_str(), OWNER), &deps).await.unwrap().status(), 204);
        }
        assert_eq!(deps.store.listings.lock().unwrap()[&listing.id].status, ListingStatus::Archived);
        assert_eq!(deps.store.event_kinds(), vec!["listing.created", "listing.archived"], "archiving announced once");
    }
}
