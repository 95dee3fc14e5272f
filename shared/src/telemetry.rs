//! Structured JSON logs through `tracing`, one span per invocation.
//!
//! Every line carries the invocation span's fields: `request_id`, `function`, `cold_start`
//! and the X-Ray `trace_id`. Log fields, not formatted strings; never secrets, tokens or
//! e-mail addresses.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Span;
use tracing_subscriber::EnvFilter;

static COLD_START: AtomicBool = AtomicBool::new(true);

/// Installs the JSON subscriber. Level from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's
/// `LoggingConfig`), else `RUST_LOG`, else `info`. Call once, first thing in `main`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|l| l.to_lowercase())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".to_owned());
    // The AWS SDK is chatty at info; its warnings still come through.
    let filter = EnvFilter::try_new(format!("{level},aws_config=warn,aws_smithy_runtime=warn,hyper=warn"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// The function's name as Lambda reports it.
pub fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned())
}

/// True exactly once per process: for the first invocation after init.
pub fn take_cold_start() -> bool {
    COLD_START.swap(false, Ordering::Relaxed)
}

/// The span every log line of one invocation is emitted in.
pub fn invocation_span(ctx: &lambda_runtime::Context) -> Span {
    let cold_start = take_cold_start();
    tracing::info_span!(
        "invocation",
        request_id = %ctx.request_id,
        function = %function_name(),
        cold_start,
        trace_id = ctx.xray_trace_id.as_deref().unwrap_or(""),
    )
}
