//! The adapters this function runs with in Lambda: its own binary (`main.rs`) and the deploy
//! bundle (`bundle/`, decision 0027) both start here.

use std::time::Duration;

use shared::adapters::health::every_dependency;
use shared::config::{aws_sdk_config, env_parsed};

/// Runs the function in Lambda: telemetry, the AWS config and its adapters, then the
/// runtime loop.
pub async fn run() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = aws_sdk_config().await;
    let timeout = Duration::from_millis(env_parsed("HEALTH_PROBE_TIMEOUT_MS", 1500)?);
    // How long an instance answers with its last report before probing again (0: never reuse).
    let cache = crate::ReportCache::new(Duration::from_millis(env_parsed("HEALTH_CACHE_MS", 5000)?));
    let probes = every_dependency(&config)?;
    shared::http::run(&|_req| crate::handle(&probes, timeout, &cache)).await
}
