//! The operator's rebuild of the search index (`scripts/reindex`): every listing read from the
//! table (the one Scan we run) and written into a new index made from the mapping file, which
//! then takes the alias in one atomic step, so searches never see it half-built (decision
//! 0034). Until the alias moves, the indexer keeps writing to the old index; a second pass
//! after the move (a fresh Scan, each listing read again) brings over what changed meanwhile,
//! listings created since included.

use chrono::NaiveDate;
use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::opensearch::{next_index_name, OpenSearch};
use shared::domain::listing::ListingId;
use shared::domain::search_index::IndexChange;
use shared::ports::ListingSnapshots;
use shared::AppError;

/// Listings read at once (each one consistent Query).
const CHUNK: usize = 50;

#[derive(Debug)]
pub struct Rebuilt {
    pub index: String,
    pub replaced: Vec<String>,
    pub listings: usize,
    pub documents: usize,
}

pub async fn rebuild(
    table: &DynamoTable,
    engine: &OpenSearch,
    today: NaiveDate,
    keep_old: bool,
) -> Result<Rebuilt, AppError> {
    let old = engine.indexes_behind_alias().await?;
    let index = next_index_name(engine.alias(), &old);
    engine.create_index(&index).await?;
    fill(table, engine, &index, &table.scan_listing_ids().await?, today).await?;
    engine.move_alias(&old, &index).await?;
    tracing::info!(%index, replaced = ?old, "alias moved; second pass");
    let ids = table.scan_listing_ids().await?;
    let documents = fill(table, engine, &index, &ids, today).await?;
    if !keep_old {
        for replaced in &old {
            engine.delete_index(replaced).await?;
        }
    }
    Ok(Rebuilt { index, replaced: old, listings: ids.len(), documents })
}

/// Writes every listing of `ids` into `index` from its current state; the documents written.
async fn fill(
    table: &DynamoTable,
    engine: &OpenSearch,
    index: &str,
    ids: &[ListingId],
    today: NaiveDate,
) -> Result<usize, AppError> {
    let mut documents = 0;
    for chunk in ids.chunks(CHUNK) {
        let snapshots = futures_util::future::try_join_all(chunk.iter().map(|id| table.snapshot(id, today))).await?;
        let changes: Vec<IndexChange> = snapshots
            .into_iter()
            .flatten()
            .map(|(listing, days, rating)| IndexChange::of(&listing, days, rating))
            .collect();
        for outcome in engine.write_to(index, &changes).await? {
            outcome?;
        }
        documents += changes.iter().filter(|c| matches!(c, IndexChange::Put { .. })).count();
    }
    Ok(documents)
}
