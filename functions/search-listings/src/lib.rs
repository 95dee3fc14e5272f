//! `GET /listings` (public): search active listings. Each accepted filter combination is one
//! DynamoDB `Query` on a precomputed partition (see `shared::domain::search`); combinations
//! no partition serves are refused with 400 rather than scanned.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::search::SearchQuery;
use shared::http::{query_pairs, with_header};
use shared::paging::Paging;
use shared::ports::{CursorKeys, ListingSearch};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: ListingSearch,
    K: CursorKeys,
{
    let query = SearchQuery::parse(&query_pairs(&req))?;
    let index = query.index_query();
    let paging = Paging::new(&deps.cursor_keys, index.fingerprint(), query.limit, query.cursor.as_deref()).await?;
    let page = deps.store.search(&index, paging.limit, paging.start.clone()).await?;
    tracing::info!(
        partition = %index.partition,
        items = page.items.len(),
        items_read = page.items_read,
        bytes_read = page.bytes_read,
        capacity_units = page.capacity_units,
        "search page"
    );
    let response = paging.respond(page)?;
    // Results are public and change slowly; a short shared cache absorbs repeated searches.
    with_header(response, "cache-control", "public, max-age=15")
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

    fn request(query: &[(&str, &str)]) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/search-listings.json")).unwrap();
        // lambda_http reads the raw query string of a v2 event (repeats included).
        v["rawQueryString"] =
            serde_json::json!(query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
        v.as_object_mut().unwrap().remove("queryStringParameters");
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn search(
        deps: &Deps<MemoryStore, CursorKey>,
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value, AppError> {
        let resp = handle(request(query), deps).await?;
        let Body::Text(t) = resp.body() else { panic!() };
        Ok(serde_json::from_str(t).unwrap())
    }

    async fn seeded() -> Deps<MemoryStore, CursorKey> {
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"test-key-0123456789") };
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let body: serde_json::Value = serde_json::from_str(fixture["body"].as_str().unwrap()).unwrap();
        for (i, (category, price, status)) in
            [("tools", 500, "active"), ("tools", 1500, "active"), ("bikes", 1000, "active"), ("tools", 800, "draft")]
                .into_iter()
                .enumerate()
        {
            let mut b = body.clone();
            b["category"] = serde_json::json!(category);
            b["daily_price"]["amount"] = serde_json::json!(price);
            b["status"] = serde_json::json!(status);
            let l = Listing::create(
                serde_json::from_value(b).unwrap(),
                UserId::parse("owner").unwrap(),
                FixedClock::default().now() + Duration::seconds(i as i64),
            )
            .unwrap();
            deps.store.seed_listing(&l).await;
        }
        deps
    }

    fn prices(v: &serde_json::Value) -> Vec<i64> {
        v["items"].as_array().unwrap().iter().map(|i| i["daily_price"]["amount"].as_i64().unwrap()).collect()
    }

    #[tokio::test]
    async fn filters_sorts_and_only_active() {
        let deps = seeded().await;
        assert_eq!(prices(&search(&deps, &[]).await.unwrap()), vec![1000, 1500, 500], "newest first, no draft");
        assert_eq!(prices(&search(&deps, &[("category", "tools")]).await.unwrap()), vec![1500, 500]);
        assert_eq!(
            prices(&search(&deps, &[("currency", "EUR"), ("sort", "price_asc")]).await.unwrap()),
            vec![500, 1000, 1500]
        );
        assert_eq!(
            prices(
                &search(&deps, &[("currency", "EUR"), ("sort", "price_desc"), ("max_price", "1200")]).await.unwrap()
            ),
            vec![1000, 500]
        );
        assert_eq!(
            prices(&search(&deps, &[("currency", "USD"), ("sort", "price_asc")]).await.unwrap()),
            Vec::<i64>::new()
        );
    }

    #[tokio::test]
    async fn cursors_page_and_refuse_foreign_queries() {
        let deps = seeded().await;
        let first = search(&deps, &[("limit", "2")]).await.unwrap();
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let second = search(&deps, &[("limit", "2"), ("cursor", &cursor)]).await.unwrap();
        assert_eq!(prices(&second), vec![500]);
        assert!(second["next_cursor"].is_null());
        let err = search(&deps, &[("category", "tools"), ("cursor", &cursor)]).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "invalid_cursor"));
        let err = search(&deps, &[("city", "Berlin")]).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "unsupported_filter_combination"));
        let err = search(&deps, &[("category", "tools"), ("category", "bikes")]).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "invalid_parameter"), "repeated parameters are refused");
    }
}
