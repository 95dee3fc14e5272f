//! Structured JSON logs through `tracing`, one span per invocation.
//!
//! Every line carries the invocation span's fields: `request_id`, `function`, `cold_start`
//! and the X-Ray `trace_id`. Log fields, not formatted strings; never secrets, tokens or
//! e-mail addresses.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{Level, Span};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static COLD_START: AtomicBool = AtomicBool::new(true);

/// Installs the JSON subscriber. Level from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's
/// `LoggingConfig`), else `RUST_LOG`, else `info`. Call once, first thing in `main`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|l| l.to_lowercase())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".to_owned());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(Level::TRACE)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_ansi(false)
        .finish()
        .with(log_filter(&level))
        .try_init();
}

/// Per-target levels (`info`, `debug,shared=trace`: `RUST_LOG`'s target syntax). The AWS SDK
/// is chatty at info; its warnings still come through. Lambda's `FATAL` is `error` here;
/// targets no directive names, and anything unreadable, are at `info`. The local runner
/// reads `RUNNER_LOG` through this too.
pub fn log_filter(level: &str) -> Targets {
    let level = if level.eq_ignore_ascii_case("fatal") { "error" } else { level };
    let quiet = [("aws_config", Level::WARN), ("aws_smithy_runtime", Level::WARN), ("hyper", Level::WARN)];
    let chosen: Targets = level.parse().unwrap_or_else(|_| Targets::new().with_default(Level::INFO));
    // Directives for some targets only (`shared=debug`) leave every other target at info.
    let chosen = if chosen.default_level().is_some() { chosen } else { chosen.with_default(Level::INFO) };
    chosen.with_targets(quiet)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_level_comes_from_the_environment_and_the_sdk_stays_quiet() {
        let f = log_filter("info");
        assert!(f.would_enable("shared::http", &Level::INFO) && !f.would_enable("shared::http", &Level::DEBUG));
        assert!(!f.would_enable("aws_config::imds", &Level::INFO) && f.would_enable("aws_config::imds", &Level::WARN));
        let f = log_filter("debug,shared=trace");
        assert!(f.would_enable("get_me", &Level::DEBUG) && f.would_enable("shared::http", &Level::TRACE));
        assert!(!f.would_enable("aws_smithy_runtime::client", &Level::INFO));
        let f = log_filter("FATAL");
        assert!(f.would_enable("shared", &Level::ERROR) && !f.would_enable("shared", &Level::WARN));
        let f = log_filter("shared=debug");
        assert!(
            f.would_enable("shared::http", &Level::DEBUG)
                && f.would_enable("get_me", &Level::INFO)
                && !f.would_enable("get_me", &Level::DEBUG)
        );
        let f = log_filter("shared=loud");
        assert!(f.would_enable("shared", &Level::INFO) && !f.would_enable("shared", &Level::DEBUG));
    }
}
