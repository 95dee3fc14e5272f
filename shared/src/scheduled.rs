//! Scheduled tasks (EventBridge `Schedule` events): one span per run, and the run's clock.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use tracing::Instrument;

use crate::domain::Clock;
use crate::error::AppError;

/// What a scheduled handler returns, boxed so the runtime loop compiles once, in this crate
/// (see `http::HandlerFuture`).
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<serde_json::Value, AppError>> + Send + 'a>>;

/// Runs `handler` for each scheduled invocation until the runtime shuts down. A failed run
/// is a function error (Lambda's retry policy and the errors alarm take it from there).
pub async fn run<'a, F, Fut>(handler: &'a F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(serde_json::Value) -> Fut + Sync + 'a,
    Fut: Future<Output = Result<serde_json::Value, AppError>> + Send + 'a,
{
    serve(&move |event| -> RunFuture<'a> { Box::pin(handler(event)) }).await
}

fn serve<'h, 'a: 'h>(
    handler: &'h (dyn Fn(serde_json::Value) -> RunFuture<'a> + Sync + 'a),
) -> Pin<Box<dyn Future<Output = Result<(), lambda_runtime::Error>> + 'h>> {
    Box::pin(lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let span = crate::telemetry::invocation_span(&event.context);
        async move {
            handler(event.payload).await.map_err(|err| {
                let source = std::error::Error::source(&err).map(|s| s.to_string()).unwrap_or_default();
                tracing::error!(code = err.code(), error = %err, source = %source, "scheduled run failed");
                lambda_runtime::Error::from(err.to_string())
            })
        }
        .instrument(span)
        .await
    })))
}

/// The instant a run works at: the event's `now` (RFC 3339) where the stage allows setting
/// the clock (tests, local runs; never prod), else the wall clock.
pub fn run_time(
    event: &serde_json::Value,
    clock: &impl Clock,
    allow_override: bool,
) -> Result<DateTime<Utc>, AppError> {
    match event.get("now").and_then(|v| v.as_str()) {
        Some(raw) if allow_override => DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| AppError::bad_request("invalid_now", "now must be RFC 3339")),
        _ => Ok(clock.now()),
    }
}
