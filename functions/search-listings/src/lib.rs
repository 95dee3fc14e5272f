//! `GET /listings` (public): search active listings on the search engine, by words, place,
//! dates and the catalogue filters, in pages by a signed cursor, with facets. The engine is
//! fed from the table's stream (`index-listings`); when it cannot be reached the answer is 503
//! with `Retry-After`, never a 500.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::cursor::{self, LastKey};
use shared::domain::listing_query::ListingQuery;
use shared::domain::Clock;
use shared::http::{json, query_pairs, with_header};
use shared::ports::{CursorKeys, Facets, ListingFinder, SearchHit};
use shared::AppError;

pub struct Deps<F, K, C> {
    pub finder: F,
    pub cursor_keys: K,
    pub clock: C,
}

#[derive(Serialize)]
struct SearchPage {
    items: Vec<SearchHit>,
    next_cursor: Option<String>,
    facets: Facets,
}

/// The cursor's one field: where the engine continues (its sort values of the last hit).
const AFTER: &str = "after";

pub async fn handle<F, K, C>(req: Request, deps: &Deps<F, K, C>) -> Result<Response<Body>, AppError>
where
    F: ListingFinder,
    K: CursorKeys,
    C: Clock,
{
    let query = ListingQuery::parse(&query_pairs(&req), deps.clock.now().date_naive())?;
    let key = deps.cursor_keys.cursor_key().await?;
    let bound_to = query.fingerprint();
    let after = match query.cursor.as_deref() {
        Some(c) => Some(cursor::decode(&key, &bound_to, c)?.remove(AFTER).ok_or_else(|| {
            AppError::bad_request("invalid_cursor", "cursor is not valid for this query; start again without it")
        })?),
        None => None,
    };
    let results = deps.finder.find(&query, after.as_deref()).await?;
    tracing::info!(
        words = query.text.is_some(),
        place = query.place.is_some(),
        dates = query.dates.is_some(),
        sort = ?query.sort,
        hits = results.hits.len(),
        more = results.next.is_some(),
        "search page"
    );
    let next_cursor = results.next.map(|n| cursor::encode(&key, &bound_to, &LastKey::from([(AFTER.to_owned(), n)])));
    let page = SearchPage { items: results.hits, next_cursor, facets: results.facets };
    // Results are public and change slowly; a short shared cache absorbs repeated searches.
    with_header(json(200, &page)?, "cache-control", "public, max-age=15")
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cursor::CursorKey;
    use shared::domain::listing_query::SearchSort;
    use shared::ports::SearchResults;
    use shared::testing::FixedClock;
    use std::sync::Mutex;

    /// Answers every query with one hit and a continuation, and keeps what it was asked.
    #[derive(Default)]
    struct Recorder {
        asked: Mutex<Vec<(ListingQuery, Option<String>)>>,
        down: bool,
    }

    #[async_trait::async_trait]
    impl ListingFinder for Recorder {
        async fn find(&self, query: &ListingQuery, after: Option<&str>) -> Result<SearchResults, AppError> {
            if self.down {
                return Err(AppError::Unavailable { dependency: "search".into() });
            }
            self.asked.lock().unwrap().push((query.clone(), after.map(str::to_owned)));
            Ok(SearchResults {
                hits: Vec::new(),
                next: Some("[1796032800000,\"x\"]".into()),
                facets: Facets::default(),
            })
        }
    }

    fn request(query: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/search-listings.json")).unwrap();
        v["rawQueryString"] = serde_json::json!(query);
        v.as_object_mut().unwrap().remove("queryStringParameters");
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    fn deps(down: bool) -> Deps<Recorder, CursorKey, FixedClock> {
        Deps {
            finder: Recorder { down, ..Default::default() },
            cursor_keys: CursorKey::new(b"test-key-0123456789"),
            clock: FixedClock::default(),
        }
    }

    async fn body(resp: Response<Body>) -> serde_json::Value {
        let Body::Text(t) = resp.body() else { panic!("no body") };
        serde_json::from_str(t).unwrap()
    }

    #[tokio::test]
    async fn a_cursor_continues_its_own_query_only() {
        let deps = deps(false);
        let first = body(handle(request("q=drill&near=52.5,13.4"), &deps).await.unwrap()).await;
        assert_eq!(first["facets"], serde_json::json!({"categories": [], "prices": []}));
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        handle(request(&format!("q=drill&near=52.5,13.4&limit=5&cursor={cursor}")), &deps).await.unwrap();
        let asked = deps.finder.asked.lock().unwrap().clone();
        assert_eq!(asked[0].0.sort, SearchSort::Relevance);
        assert_eq!(asked[1].1.as_deref(), Some("[1796032800000,\"x\"]"), "the engine continues after the last hit");
        let err = handle(request(&format!("q=drills&cursor={cursor}")), &deps).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "invalid_cursor"));
    }

    #[tokio::test]
    async fn bad_input_is_400_and_an_unreachable_engine_503() {
        let err = handle(request("radius_km=500&near=1,2"), &deps(false)).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "invalid_parameter"));
        let err = handle(request("q=drill"), &deps(true)).await.unwrap_err();
        assert_eq!(err.status(), 503);
        let resp = shared::http::problem_response(&err, "r1");
        assert_eq!(resp.headers()["retry-after"], "5", "a retry hint");
    }
}
