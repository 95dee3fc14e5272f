//! Table-stream consumer: keeps the search index in step with listings and their calendars.
//!
//! A record about a listing item or one of its held or blocked days means "this listing's
//! document may be stale": the listing is read again, with its days from today on (one
//! consistent query), and its document written at the listing's version, or removed when it
//! is not active. Reading the current state, not the record's image, makes a replayed or late
//! record harmless; the version makes the index refuse a write older than what it holds.
//! One `_bulk` request per batch.
//!
//! Failures follow the stream rules (decision 0029): the first record of a listing that could
//! not be indexed and every record after it are reported as failed, so they are retried; when
//! that is the batch's first record the invocation fails, and Lambda bisects the batch.

pub mod rebuild;
mod wiring;
pub use wiring::run;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use shared::adapters::dynamodb::listings::listing_of_stream_keys;
use shared::domain::listing::ListingId;
use shared::domain::search_index::IndexChange;
use shared::domain::Clock;
use shared::ports::{ListingSnapshots, SearchIndex};
use shared::AppError;

pub struct Deps<S, I, C> {
    pub store: S,
    pub index: I,
    pub clock: C,
}

pub async fn handle<S, I, C>(batch: Event, deps: &Deps<S, I, C>) -> Result<DynamoDbEventResponse, AppError>
where
    S: ListingSnapshots,
    I: SearchIndex,
    C: Clock,
{
    let records = &batch.records;
    let listings = listings_in(&batch);
    let today = deps.clock.now().date_naive();
    let mut first_failed = records.len();
    let (mut changes, mut positions) = (Vec::new(), Vec::new());
    for (id, position) in &listings {
        match deps.store.snapshot(id, today).await {
            Ok(Some((listing, days, rating))) => {
                changes.push(IndexChange::of(&listing, days, rating));
                positions.push(*position);
            }
            Ok(None) => tracing::warn!(listing_id = %id, "no such listing; nothing to index"),
            Err(err) => {
                tracing::warn!(listing_id = %id, error = %err.for_log(), "listing not read");
                first_failed = first_failed.min(*position);
            }
        }
    }
    match deps.index.apply(&changes).await {
        Ok(outcomes) => {
            for ((outcome, change), position) in outcomes.iter().zip(&changes).zip(&positions) {
                if let Err(err) = outcome {
                    tracing::warn!(listing_id = %change.id(), error = %err.for_log(), "document not written");
                    first_failed = first_failed.min(*position);
                }
            }
        }
        Err(err) => {
            tracing::warn!(error = %err.for_log(), "search index not reached");
            first_failed = positions.iter().copied().fold(first_failed, usize::min);
        }
    }
    tracing::info!(
        records = records.len(),
        listings = listings.len(),
        written = changes.len(),
        failed_at = first_failed,
        "stream batch done"
    );
    shared::consumer::stream_response(&batch, first_failed, "the batch's first listing was not indexed")
}

/// The listings the batch's records are about, each once, with the position of its first record.
fn listings_in(batch: &Event) -> Vec<(ListingId, usize)> {
    let mut listings: Vec<(ListingId, usize)> = Vec::new();
    for (i, record) in batch.records.iter().enumerate() {
        match listing_of_stream_keys(&record.change.keys) {
            Some(id) if !listings.iter().any(|(l, _)| *l == id) => listings.push((id, i)),
            Some(_) => {}
            None => tracing::warn!(event_id = %record.event_id, "not a listing or day record; skipped"),
        }
    }
    listings
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::booking::DateRange;
    use shared::domain::listing::{Listing, ListingStatus};
    use shared::domain::user::UserId;
    use shared::ports::Calendar;
    use shared::testing::{FixedClock, InspectIndex, MemoryIndex, MemoryStore};

    const A: &str = "0193a1b2-0000-7000-8000-00000000000a";
    const B: &str = "0193a1b2-0000-7000-8000-00000000000b";

    fn fixture() -> Event {
        serde_json::from_str(include_str!("../../../events/index-listings.json")).unwrap()
    }

    fn failed(r: &DynamoDbEventResponse) -> Vec<String> {
        r.batch_item_failures.iter().filter_map(|f| f.item_identifier.clone()).collect()
    }

    async fn deps() -> Deps<MemoryStore, MemoryIndex, FixedClock> {
        let deps = Deps { store: MemoryStore::default(), index: MemoryIndex::default(), clock: FixedClock::default() };
        let body: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/create-listing.json")).unwrap();
        let request: serde_json::Value = serde_json::from_str(body["body"].as_str().unwrap()).unwrap();
        for (id, status) in [(A, ListingStatus::Active), (B, ListingStatus::Paused)] {
            let mut l = Listing::create(
                serde_json::from_value(request.clone()).unwrap(),
                UserId::parse("owner").unwrap(),
                deps.clock.0,
            )
            .unwrap();
            l.id = ListingId::parse(id).unwrap();
            l.status = status;
            deps.store.seed_listing(&l).await;
        }
        let days = DateRange::parse("2026-12-05", "2026-12-07").unwrap();
        deps.store.block_days(&ListingId::parse(A).unwrap(), &days).await.unwrap();
        deps
    }

    fn id(raw: &str) -> ListingId {
        ListingId::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn each_listing_is_indexed_once_from_its_current_state() {
        let deps = deps().await;
        let response = handle(fixture(), &deps).await.unwrap();
        assert!(failed(&response).is_empty());
        let (_, doc) = deps.index.document(&id(A)).await.unwrap().expect("the active listing is indexed");
        assert_eq!(doc["unavailable"], serde_json::json!([{"gte": "2026-12-05", "lt": "2026-12-07"}]));
        assert_eq!(deps.index.document(&id(B)).await.unwrap(), None, "a paused listing is not searchable");
        assert_eq!(deps.index.docs.lock().unwrap().len(), 2, "one write per listing, the outbox record skipped");
    }

    #[tokio::test]
    async fn a_refused_listing_is_retried_from_its_first_record_and_first_in_line_fails_the_batch() {
        let deps = deps().await;
        deps.index.refusing.lock().unwrap().insert(B.to_owned());
        let response = handle(fixture(), &deps).await.unwrap();
        assert_eq!(failed(&response), vec!["202"], "retried from listing B's first record");
        assert!(deps.index.document(&id(A)).await.unwrap().is_some(), "the records before it are done");

        deps.index.refusing.lock().unwrap().insert(A.to_owned());
        assert!(handle(fixture(), &deps).await.is_err(), "a failed invocation: Lambda bisects");
        *deps.index.down.lock().unwrap() = true;
        deps.index.refusing.lock().unwrap().clear();
        assert!(handle(fixture(), &deps).await.is_err(), "no index: the whole batch is retried");
    }
}
