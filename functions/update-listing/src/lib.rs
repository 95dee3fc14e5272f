//! `PATCH /listings/{id}` (owner): partial update with optimistic concurrency. The request
//! must carry `If-Match` with the current `ETag` (428 without, 412 when stale); a writer that
//! races us between read and write also gets 412. Non-owners get 404. Publishing (to
//! `active`) needs a payout account that can receive transfers (409 `payout_account_required`).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::events::kinds;
use shared::domain::listing::{check_if_match, ListingId, PatchListingRequest};
use shared::domain::Clock;
use shared::http::{header, json, json_body, path_param, with_header};
use shared::identity::Caller;
use shared::ports::{ListingReader, ListingWriter, ProfileStore};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ListingReader + ListingWriter + ProfileStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = ListingId::parse(&path_param(&req, "id", "listing")?)?;
    let patch = json_body::<PatchListingRequest>(&req)?;
    let current = shared::services::owned_listing(&deps.store, &caller, &id).await?;
    check_if_match(header(&req, "if-match"), current.version)?;
    let next = current.apply(patch, deps.clock.now())?;
    if next.status != current.status {
        shared::services::check_publishable(&deps.store, &next).await?;
    }
    let kind = if next.status != current.status && next.status == shared::domain::listing::ListingStatus::Archived {
        kinds::LISTING_ARCHIVED
    } else {
        kinds::LISTING_UPDATED
    };
    deps.store.replace_listing(&current, &next, &shared::services::listing_event(kind, &next, &caller)).await?;
    tracing::info!(listing_id = %next.id, version = next.version, status = next.status.as_str(), "listing updated");
    with_header(json(200, &next)?, "etag", &next.etag())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::testing::{FixedClock, MemoryStore};

    const OWNER: &str = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10";

    async fn deps_with_listing() -> (Deps<MemoryStore, FixedClock>, Listing) {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body: serde_json::Value = serde_json::from_str(fixture["body"].as_str().unwrap()).unwrap();
        let listing =
            Listing::create(serde_json::from_value(body).unwrap(), UserId::parse(OWNER).unwrap(), deps.clock.now())
                .unwrap();
        deps.store.seed_listing(&listing).await;
        (deps, listing)
    }

    fn request(id: &str, body: &str, if_match: Option<&str>, sub: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/update-listing.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["body"] = serde_json::json!(body);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        match if_match {
            Some(tag) => v["headers"]["if-match"] = serde_json::json!(tag),
            None => {
                v["headers"].as_object_mut().unwrap().remove("if-match");
            }
        }
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    fn code(r: Result<Response<Body>, AppError>) -> (u16, &'static str) {
        let e = r.unwrap_err();
        (e.status(), e.code())
    }

    #[tokio::test]
    async fn fixture_updates_with_the_current_etag() {
        let (deps, listing) = deps_with_listing().await;
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/update-listing.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(listing.id.as_str());
        let resp = handle(lambda_http::request::from_str(&v.to_string()).unwrap(), &deps).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["etag"], "\"2\"");
        let stored = deps.store.listings.lock().unwrap()[&listing.id].clone();
        assert_eq!((stored.title.as_str(), stored.daily_price.amount), ("Cordless drill, 18V", 1500));
        assert_eq!(deps.store.event_kinds(), vec!["listing.created", "listing.updated"]);
    }

    #[tokio::test]
    async fn preconditions_and_ownership() {
        let (deps, listing) = deps_with_listing().await;
        let id = listing.id.as_str();
        assert_eq!(
            code(handle(request(id, r#"{"title":"x"}"#, None, OWNER), &deps).await),
            (428, "precondition_required")
        );
        assert_eq!(
            code(handle(request(id, r#"{"title":"x"}"#, Some("\"7\""), OWNER), &deps).await),
            (412, "precondition_failed")
        );
        assert_eq!(
            code(handle(request(id, r#"{"title":"x"}"#, Some("\"1\""), "someone-else"), &deps).await),
            (404, "not_found")
        );
        assert_eq!(
            code(handle(request(id, r#"{"status":"draft"}"#, Some("\"1\""), OWNER), &deps).await),
            (409, "invalid_status_transition")
        );
        assert_eq!(
            code(handle(request(id, r#"{"min_days":0}"#, Some("\"1\""), OWNER), &deps).await),
            (400, "validation_failed")
        );
        assert_eq!(deps.store.listings.lock().unwrap()[&listing.id].version, 1, "nothing changed");
        assert_eq!(deps.store.event_kinds(), vec!["listing.created"], "a refused update announces nothing");
    }

    #[tokio::test]
    async fn publishing_again_needs_a_payout_account() {
        let (deps, listing) = deps_with_listing().await;
        let id = listing.id.as_str();
        let paused = handle(request(id, r#"{"status":"paused"}"#, Some("\"1\""), OWNER), &deps).await.unwrap();
        assert_eq!(paused.status(), 200, "pausing needs no account");
        assert_eq!(
            code(handle(request(id, r#"{"status":"active"}"#, Some("\"2\""), OWNER), &deps).await),
            (409, "payout_account_required")
        );
        deps.store.seed_payout_ready(&UserId::parse(OWNER).unwrap());
        let active = handle(request(id, r#"{"status":"active"}"#, Some("\"2\""), OWNER), &deps).await.unwrap();
        assert_eq!(active.status(), 200);
    }
}
