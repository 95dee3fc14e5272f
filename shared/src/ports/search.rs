//! Search-index ports: a listing's state as the index needs it, and the index itself.

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::domain::listing::{Listing, ListingId};
use crate::domain::listing_query::ListingQuery;
use crate::domain::search::ListingSummary;
use crate::domain::search_index::IndexChange;
use crate::error::AppError;

/// A listing with its held and blocked days, read together and consistently: what its search
/// document is built from.
#[async_trait]
pub trait ListingSnapshots: Send + Sync {
    /// The listing, its unavailable days from `from` on, in order, and its rating totals;
    /// `None` if there is no such listing.
    async fn snapshot(&self, id: &ListingId, from: NaiveDate) -> Result<Option<ListingSnapshot>, AppError>;
}

/// What a listing's search document is made of.
pub type ListingSnapshot = (Listing, Vec<NaiveDate>, crate::domain::review::RatingTotals);

/// The search engine's listing index.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Applies `changes` in one request and answers for each, in order. A change older than
    /// the document the index holds succeeds without effect (it was overtaken). `Err` only
    /// when the index could not be asked at all.
    async fn apply(&self, changes: &[IndexChange]) -> Result<Vec<Result<(), AppError>>, AppError>;
}

/// One search result: what a result shows, and how far it is when the query has a point.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub summary: ListingSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    pub rating: crate::domain::review::Rating,
}

/// A count of results under one value of a facet.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FacetCount {
    pub key: String,
    pub count: u64,
}

/// Results per price band `[from, to)` in one currency (minor units).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PriceHistogram {
    pub currency: String,
    pub buckets: Vec<PriceBucket>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PriceBucket {
    pub from: i64,
    pub to: i64,
    pub count: u64,
}

/// What the whole result set (not just the page) holds: counts per category, and a price
/// histogram per currency.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Facets {
    pub categories: Vec<FacetCount>,
    pub prices: Vec<PriceHistogram>,
}

/// One page of results; `next` continues after its last hit (opaque to callers, who sign it
/// into a cursor).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub next: Option<String>,
    pub facets: Facets,
}

/// The search engine's answers to `GET /listings`.
#[async_trait]
pub trait ListingFinder: Send + Sync {
    /// A page of `query.limit` results after `after` (a `next` of this same query).
    async fn find(&self, query: &ListingQuery, after: Option<&str>) -> Result<SearchResults, AppError>;
}
