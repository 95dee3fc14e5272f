//! `scripts/reindex`: rebuilds the search index from the table without downtime (see
//! `index_listings::rebuild`). Configured as the functions are: `TABLE_NAME`, `SEARCH_ENDPOINT`,
//! `SEARCH_INDEX` (the alias), `SEARCH_SIGNING_SERVICE`, and the AWS credentials and region
//! of whoever runs it. `--keep-old` keeps the replaced index (to delete by hand later).

use std::process::ExitCode;

use shared::adapters::dynamodb::DynamoTable;
use shared::adapters::opensearch::OpenSearch;
use shared::config::aws_sdk_config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a != "--keep-old") {
        eprintln!("usage: reindex [--keep-old]   (configured by TABLE_NAME, SEARCH_ENDPOINT, SEARCH_INDEX)");
        return ExitCode::from(2);
    }
    let config = aws_sdk_config().await;
    let (table, engine) = match (DynamoTable::from_env(&config), OpenSearch::from_env(&config)) {
        (Ok(t), Ok(e)) => (t, e),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("reindex: {e}");
            return ExitCode::from(2);
        }
    };
    let today = chrono::Utc::now().date_naive();
    match index_listings::rebuild::rebuild(&table, &engine, today, !args.is_empty()).await {
        Ok(r) => {
            println!(
                "reindex: {} now holds {} documents from {} listings; replaced {:?}{}",
                r.index,
                r.documents,
                r.listings,
                r.replaced,
                if args.is_empty() { " (deleted)" } else { " (kept)" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("reindex: failed, the alias still points where it did unless it was moved: {}", e.for_log());
            ExitCode::FAILURE
        }
    }
}
