//! Test support for the runner's event sources: a Lambda that appends every event it
//! receives to `$RECORD_FILE` (one JSON document per line) and answers `{}`. Used by
//! tests/runner_sources.rs with tests/fixtures/runner-sources.yaml; never deployed.

use std::io::Write;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let path = std::env::var("RECORD_FILE")?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let path = path.clone();
        async move {
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            writeln!(file, "{}", event.payload)?;
            Ok::<_, Error>(json!({}))
        }
    }))
    .await
}
