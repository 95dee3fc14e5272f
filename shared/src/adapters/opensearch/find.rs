//! `GET /listings` as one OpenSearch `_search`: the words as a `multi_match` (title weighted
//! above description, typo-tolerant, every word required; never query syntax), the filters as
//! `filter` clauses that do not score, the dates as a `must_not` over the unavailable ranges,
//! pages by `search_after` (never `from`), and the facets as aggregations over the same query.

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{engine_error, error_type, OpenSearch};
use crate::domain::listing_query::{distance_km, ListingQuery, Place, SearchSort};
use crate::domain::money::{Currency, Money};
use crate::domain::review::Rating;
use crate::domain::search::ListingSummary;
use crate::error::AppError;
use crate::ports::{FacetCount, Facets, ListingFinder, PriceBucket, PriceHistogram, SearchHit, SearchResults};

/// Price bands of the histogram facet, in minor units (10.00 in two-decimal currencies).
const PRICE_BAND: i64 = 1000;

/// What a result needs of a document.
const SOURCE: [&str; 10] =
    ["id", "title", "category", "city", "country", "daily_price", "owner_id", "created_at", "location", "rating"];

fn filters(q: &ListingQuery) -> (Vec<Value>, Vec<Value>) {
    let mut filter = Vec::new();
    let mut term = |field: &str, value: Option<String>| {
        if let Some(v) = value {
            filter.push(json!({ "term": { field: v } }));
        }
    };
    term("category", q.category.map(|c| c.as_str().to_owned()));
    term("country", q.country.map(|c| c.code().to_owned()));
    term("city_key", q.city.clone());
    term("owner_id", q.owner_id.as_ref().map(ToString::to_string));
    term("daily_price.currency", q.currency.map(|c| c.to_string()));
    if q.min_price.is_some() || q.max_price.is_some() {
        filter.push(json!({ "range": { "daily_price.amount": { "gte": q.min_price, "lte": q.max_price } } }));
    }
    match q.place {
        Some(Place::Near { lat, lng, radius_km }) => filter.push(json!({
            "geo_distance": { "distance": format!("{radius_km}km"), "location": { "lat": lat, "lon": lng } }
        })),
        Some(Place::Within { min_lng, min_lat, max_lng, max_lat }) => filter.push(json!({
            "geo_bounding_box": { "location": {
                "top_left": { "lat": max_lat, "lon": min_lng },
                "bottom_right": { "lat": min_lat, "lon": max_lng }
            } }
        })),
        None => {}
    }
    let mut must_not = Vec::new();
    if let Some(dates) = q.dates {
        // The stay's length must be one the listing takes, and no day of it unavailable.
        filter.push(json!({ "range": { "min_days": { "lte": dates.days() } } }));
        filter.push(json!({ "range": { "max_days": { "gte": dates.days() } } }));
        must_not.push(json!({ "range": { "unavailable": {
            "gte": dates.start.to_string(), "lt": dates.end.to_string(), "relation": "intersects"
        } } }));
    }
    (filter, must_not)
}

fn sort(q: &ListingQuery) -> Value {
    let id = json!({ "id": "asc" });
    match (q.sort, q.place) {
        (SearchSort::Relevance, _) => json!(["_score", { "created_at": "desc" }, id]),
        (SearchSort::Distance, Some(Place::Near { lat, lng, .. })) => json!([
            { "_geo_distance": { "location": { "lat": lat, "lon": lng }, "order": "asc", "unit": "km" } }, id
        ]),
        // Best rated first; among equals the most reviewed; unrated (average 0) last. An index
        // whose mapping has no rating yet (before the indexer's first write) sorts as unrated.
        (SearchSort::Rating, _) => json!([
            { "rating.average": { "order": "desc", "unmapped_type": "float" } },
            { "rating.count": { "order": "desc", "unmapped_type": "integer" } },
            { "created_at": "desc" },
            id
        ]),
        (SearchSort::PriceAsc, _) => json!([{ "daily_price.amount": "asc" }, { "created_at": "asc" }, id]),
        (SearchSort::PriceDesc, _) => {
            json!([{ "daily_price.amount": "desc" }, { "created_at": "desc" }, { "id": "desc" }])
        }
        _ => json!([{ "created_at": "desc" }, id]),
    }
}

/// The `_search` body for a page of `q` after `after` (sort values of the last hit seen).
pub(super) fn search_body(q: &ListingQuery, after: Option<Value>) -> Value {
    let (filter, must_not) = filters(q);
    let mut boolean = json!({ "filter": filter, "must_not": must_not });
    if let Some(text) = &q.text {
        boolean["must"] = json!([{ "multi_match": {
            "query": text, "fields": ["title^3", "description"], "fuzziness": "AUTO", "operator": "and"
        } }]);
    }
    let mut body = json!({
        "size": q.limit + 1,
        "query": { "bool": boolean },
        "sort": sort(q),
        "_source": SOURCE,
        "track_total_hits": false,
        "aggs": {
            "categories": { "terms": { "field": "category", "size": 50 } },
            "currencies": {
                "terms": { "field": "daily_price.currency", "size": 20 },
                "aggs": { "prices": { "histogram": { "field": "daily_price.amount", "interval": PRICE_BAND, "min_doc_count": 1 } } }
            }
        }
    });
    if let Some(after) = after {
        body["search_after"] = after;
    }
    body
}

#[derive(Deserialize)]
struct Source {
    id: String,
    title: String,
    category: String,
    city: String,
    country: String,
    daily_price: RawPrice,
    owner_id: String,
    created_at: DateTime<Utc>,
    location: Option<Point>,
    /// Documents written before ratings existed lack it: unrated.
    #[serde(default)]
    rating: Option<RawRating>,
}

#[derive(Deserialize)]
struct RawRating {
    average: f64,
    count: u64,
}

#[derive(Deserialize)]
struct RawPrice {
    amount: i64,
    currency: String,
}

#[derive(Deserialize)]
struct Point {
    lat: f64,
    lon: f64,
}

/// The parts of a `_search` answer we read, deserialized in one pass (no `Value` tree).
#[derive(Deserialize)]
struct Answer {
    hits: Hits,
    #[serde(default)]
    aggregations: Option<Aggregations>,
}

#[derive(Deserialize)]
struct Hits {
    hits: Vec<RawHit>,
}

#[derive(Deserialize)]
struct RawHit {
    #[serde(rename = "_source")]
    source: Source,
    #[serde(default)]
    sort: Vec<Value>,
}

#[derive(Deserialize)]
struct Aggregations {
    categories: Buckets<KeyCount>,
    currencies: Buckets<CurrencyPrices>,
}

#[derive(Deserialize)]
struct Buckets<T> {
    buckets: Vec<T>,
}

#[derive(Deserialize)]
struct KeyCount {
    key: String,
    doc_count: u64,
}

#[derive(Deserialize)]
struct CurrencyPrices {
    key: String,
    prices: Buckets<Band>,
}

#[derive(Deserialize)]
struct Band {
    key: f64,
    doc_count: u64,
}

fn hit(q: &ListingQuery, s: Source) -> Result<SearchHit, AppError> {
    let currency = Currency::parse(&s.daily_price.currency)
        .ok_or_else(|| AppError::internal(format!("document {} has currency {}", s.id, s.daily_price.currency)))?;
    let distance = match (q.place, &s.location) {
        (Some(Place::Near { lat, lng, .. }), Some(p)) => {
            Some((distance_km(lat, lng, p.lat, p.lon) * 100.0).round() / 100.0)
        }
        _ => None,
    };
    Ok(SearchHit {
        summary: ListingSummary {
            id: s.id,
            title: s.title,
            category: s.category,
            city: s.city,
            country: s.country,
            daily_price: Money { amount: s.daily_price.amount, currency },
            owner_id: s.owner_id,
            created_at: s.created_at,
        },
        distance_km: distance,
        rating: match s.rating {
            Some(r) if r.count > 0 => Rating { average: Some(r.average), count: r.count },
            _ => Rating { average: None, count: 0 },
        },
    })
}

fn facets(aggs: Option<Aggregations>) -> Facets {
    let Some(aggs) = aggs else { return Facets::default() };
    Facets {
        categories: aggs
            .categories
            .buckets
            .into_iter()
            .map(|b| FacetCount { key: b.key, count: b.doc_count })
            .collect(),
        prices: aggs
            .currencies
            .buckets
            .into_iter()
            .map(|c| PriceHistogram {
                currency: c.key,
                buckets: c
                    .prices
                    .buckets
                    .into_iter()
                    .map(|b| PriceBucket { from: b.key as i64, to: b.key as i64 + PRICE_BAND, count: b.doc_count })
                    .collect(),
            })
            .collect(),
    }
}

#[async_trait]
impl ListingFinder for OpenSearch {
    async fn find(&self, query: &ListingQuery, after: Option<&str>) -> Result<SearchResults, AppError> {
        let bad_cursor =
            || AppError::bad_request("invalid_cursor", "cursor is not valid for this query; start again without it");
        let after = after
            .map(|a| serde_json::from_str::<Value>(a).ok().filter(Value::is_array).ok_or_else(bad_cursor))
            .transpose()?;
        let body = search_body(query, after);
        let path = format!("/{}/_search", self.alias);
        let response = self.call(Method::POST, &path, Some(Bytes::from(body.to_string())), false).await?;
        if response.status == StatusCode::NOT_FOUND && error_type(&response.body) == "index_not_found_exception" {
            return Ok(SearchResults::default()); // nothing indexed yet
        }
        if !response.status.is_success() {
            return Err(engine_error("search", response.status, &response.body));
        }
        let answer: Answer = serde_json::from_slice(&response.body).map_err(AppError::internal)?;
        let mut raw = answer.hits.hits;
        let limit = query.limit as usize;
        let next = if raw.len() > limit {
            raw.truncate(limit);
            Some(serde_json::to_string(&raw[limit - 1].sort).map_err(AppError::internal)?)
        } else {
            None
        };
        let hits = raw.into_iter().map(|h| hit(query, h.source)).collect::<Result<Vec<_>, _>>()?;
        Ok(SearchResults { hits, next, facets: facets(answer.aggregations) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> ListingQuery {
        let params: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ListingQuery::parse(&params, "2026-12-01".parse().unwrap()).unwrap()
    }

    #[test]
    fn words_are_matched_never_parsed_and_dates_exclude_unavailable_ranges() {
        let q = query(&[("q", "drill AND title:*"), ("available_from", "2026-12-05"), ("available_to", "2026-12-08")]);
        let body = search_body(&q, None);
        let text = &body["query"]["bool"]["must"][0]["multi_match"];
        assert_eq!(text["query"], "drill AND title:*", "a match query: operators are plain words");
        assert_eq!(text["fields"], json!(["title^3", "description"]));
        assert_eq!(
            body["query"]["bool"]["must_not"][0]["range"]["unavailable"],
            json!({"gte": "2026-12-05", "lt": "2026-12-08", "relation": "intersects"})
        );
        assert_eq!(body["size"], 21, "one more than the page says whether another follows");
        assert_eq!(body["sort"][0], "_score");
    }

    #[test]
    fn a_box_is_top_left_to_bottom_right_and_distance_sorts_by_the_point() {
        let body = search_body(&query(&[("bbox", "13.0,52.3,13.8,52.7")]), None);
        assert_eq!(
            body["query"]["bool"]["filter"][0]["geo_bounding_box"]["location"],
            json!({"top_left": {"lat": 52.7, "lon": 13.0}, "bottom_right": {"lat": 52.3, "lon": 13.8}})
        );
        let body = search_body(&query(&[("near", "52.5,13.4"), ("radius_km", "10")]), Some(json!([1.5, "x"])));
        assert_eq!(body["query"]["bool"]["filter"][0]["geo_distance"]["distance"], "10km");
        assert_eq!(body["sort"][0]["_geo_distance"]["location"], json!({"lat": 52.5, "lon": 13.4}));
        assert_eq!(body["search_after"], json!([1.5, "x"]));
    }

    #[test]
    fn rating_sorts_best_rated_then_most_reviewed() {
        let body = search_body(&query(&[("sort", "rating")]), None);
        let keys: Vec<String> = body["sort"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_object().unwrap().keys().next().unwrap().clone())
            .collect();
        assert_eq!(keys, ["rating.average", "rating.count", "created_at", "id"]);
        assert_eq!(body["sort"][0]["rating.average"]["order"], "desc");
        assert!(body["_source"].as_array().unwrap().contains(&json!("rating")));
    }

    #[test]
    fn an_answer_reads_into_hits_with_distances_and_facets() {
        let answer: Answer = serde_json::from_value(json!({
            "took": 1,
            "hits": {"hits": [{"_id": "a", "_score": null, "sort": [0.5, "a"], "_source": {
                "id": "a", "title": "Drill", "category": "tools", "city": "Berlin", "country": "DE",
                "daily_price": {"amount": 1500, "currency": "EUR"}, "owner_id": "u1",
                "created_at": "2026-11-30T10:00:00Z", "location": {"lat": 52.52, "lon": 13.405}
            }}]},
            "aggregations": {
                "categories": {"buckets": [{"key": "tools", "doc_count": 1}], "sum_other_doc_count": 0},
                "currencies": {"buckets": [{"key": "EUR", "doc_count": 1, "prices": {"buckets": [{"key": 1000.0, "doc_count": 1}]}}]}
            }
        }))
        .unwrap();
        let q = query(&[("near", "52.52,13.405")]);
        let hits: Vec<SearchHit> = answer.hits.hits.into_iter().map(|h| hit(&q, h.source).unwrap()).collect();
        assert_eq!(hits[0].distance_km, Some(0.0));
        assert_eq!(hits[0].summary.daily_price.amount, 1500);
        let facets = facets(answer.aggregations);
        assert_eq!(facets.categories, vec![FacetCount { key: "tools".into(), count: 1 }]);
        assert_eq!(facets.prices[0].buckets, vec![PriceBucket { from: 1000, to: 2000, count: 1 }]);
    }
}
