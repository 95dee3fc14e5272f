//! `GET /me/listings` (auth): the caller's listings in every status, newest first, as
//! summaries (`OwnedListingSummary`: no description or terms, which `GET /listings/{id}`
//! gives), paged with a signed cursor bound to the caller (another user's cursor is refused).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::identity::Caller;
use shared::paging::{Paging, QueryParams};
use shared::ports::{CursorKeys, OwnerListings};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: OwnerListings,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    let params = QueryParams::only(&req, &["limit", "cursor"])?;
    let paging = Paging::from_params(&deps.cursor_keys, &params, format!("owner-listings|{}", caller.user_id)).await?;
    let page = deps.store.owner_listings(&caller.user_id, paging.limit, paging.start.clone()).await?;
    tracing::info!(
        items = page.items.len(),
        items_read = page.items_read,
        bytes_read = page.bytes_read,
        capacity_units = page.capacity_units,
        "owner listings page"
    );
    paging.respond(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use shared::cursor::CursorKey;
    use shared::domain::listing::Listing;
    use shared::domain::user::UserId;
    use shared::domain::Clock;
    use shared::testing::{FixedClock, MemoryStore};

    const OWNER: &str = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10";

    fn request(query: &[(&str, &str)], sub: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/my-listings.json")).unwrap();
        v.as_object_mut().unwrap().remove("queryStringParameters");
        v["rawQueryString"] =
            serde_json::json!(query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn page(
        deps: &Deps<MemoryStore, CursorKey>,
        query: &[(&str, &str)],
        sub: &str,
    ) -> Result<serde_json::Value, AppError> {
        let resp = handle(request(query, sub), deps).await?;
        let Body::Text(t) = resp.body() else { panic!() };
        Ok(serde_json::from_str(t).unwrap())
    }

    #[tokio::test]
    async fn pages_newest_first_in_every_status_and_binds_the_cursor_to_the_caller() {
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"test-key-0123456789") };
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body: serde_json::Value = serde_json::from_str(fixture["body"].as_str().unwrap()).unwrap();
        let mut ids = Vec::new();
        for i in 0..5 {
            let mut b = body.clone();
            b["status"] = serde_json::json!(if i % 2 == 0 { "draft" } else { "active" });
            let l = Listing::create(
                serde_json::from_value(b).unwrap(),
                UserId::parse(OWNER).unwrap(),
                FixedClock::default().now() + Duration::seconds(i),
            )
            .unwrap();
            deps.store.seed_listing(&l).await;
            ids.push(l.id.to_string());
        }
        ids.reverse();
        let first = page(&deps, &[("limit", "3")], OWNER).await.unwrap();
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let second = page(&deps, &[("limit", "3"), ("cursor", &cursor)], OWNER).await.unwrap();
        assert!(second["next_cursor"].is_null());
        let seen: Vec<String> = first["items"]
            .as_array()
            .unwrap()
            .iter()
            .chain(second["items"].as_array().unwrap())
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(seen, ids);
        // A summary: what a row of the list shows and acts on, not the description or terms.
        let row = first["items"][0].as_object().unwrap();
        let mut fields: Vec<&str> = row.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "category",
                "city",
                "country",
                "created_at",
                "daily_price",
                "id",
                "status",
                "title",
                "updated_at",
                "version"
            ]
        );
        assert_eq!(
            (row["status"].as_str(), row["version"].as_u64(), row["country"].as_str()),
            (Some("draft"), Some(1), Some(body["location"]["country"].as_str().unwrap()))
        );

        let err = page(&deps, &[("cursor", &cursor)], "someone-else").await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "invalid_cursor"));
        assert_eq!(page(&deps, &[("limit", "0")], OWNER).await.unwrap_err().code(), "invalid_parameter");
        assert_eq!(page(&deps, &[("sort", "x")], OWNER).await.unwrap_err().code(), "unknown_parameter");
        assert_eq!(page(&deps, &[], "nobody").await.unwrap()["items"], serde_json::json!([]));
    }
}
