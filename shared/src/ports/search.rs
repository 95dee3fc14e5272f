//! Search-index ports: a listing's state as the index needs it, and the index itself.

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::domain::listing::{Listing, ListingId};
use crate::domain::search_index::IndexChange;
use crate::error::AppError;

/// A listing with its held and blocked days, read together and consistently: what its search
/// document is built from.
#[async_trait]
pub trait ListingSnapshots: Send + Sync {
    /// The listing and its unavailable days from `from` on, in order; `None` if there is no
    /// such listing.
    async fn snapshot(&self, id: &ListingId, from: NaiveDate) -> Result<Option<(Listing, Vec<NaiveDate>)>, AppError>;
}

/// The search engine's listing index.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Applies `changes` in one request and answers for each, in order. A change older than
    /// the document the index holds succeeds without effect (it was overtaken). `Err` only
    /// when the index could not be asked at all.
    async fn apply(&self, changes: &[IndexChange]) -> Result<Vec<Result<(), AppError>>, AppError>;
}
