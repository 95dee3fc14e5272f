use std::time::Duration;

use shared::adapters::health::every_dependency;
use shared::config::{aws_sdk_config, env_parsed};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let timeout = Duration::from_millis(env_parsed("HEALTH_PROBE_TIMEOUT_MS", 1500)?);
    // How long an instance answers with its last report before probing again (0: never reuse).
    let cache = health::ReportCache::new(Duration::from_millis(env_parsed("HEALTH_CACHE_MS", 5000)?));
    let probes = every_dependency(&config)?;
    shared::http::run(&|_req| health::handle(&probes, timeout, &cache)).await
}
