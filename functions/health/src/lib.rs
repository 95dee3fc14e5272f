//! `GET /health` (no auth): probes every dependency concurrently, each under its own
//! timeout. 200 when all answer, 503 naming the ones that did not. Reasons go to the log,
//! not the (public) response. An instance reuses its last report for a few seconds (`Age`
//! header): the endpoint is public, and without that every request would fan out to seven
//! AWS calls, on our bill and against the accounts' API quotas.

mod wiring;
pub use wiring::run;

use std::time::{Duration, Instant};

use lambda_http::{Body, Response};
use serde::Serialize;
use shared::ports::HealthProbe;
use shared::AppError;

#[derive(Debug, Serialize)]
pub struct Check {
    pub status: &'static str,
    pub latency_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub status: &'static str,
    pub checks: std::collections::BTreeMap<&'static str, Check>,
    pub failed: Vec<&'static str>,
}

pub async fn check_all(probes: &[Box<dyn HealthProbe>], timeout: Duration) -> Report {
    let results = futures_util::future::join_all(probes.iter().map(|probe| async move {
        let started = Instant::now();
        let outcome = tokio::time::timeout(timeout, probe.probe()).await;
        let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
        let status = match outcome {
            Ok(Ok(())) => "ok",
            Ok(Err(reason)) => {
                tracing::warn!(dependency = probe.name(), reason = %reason, "health probe failed");
                "error"
            }
            Err(_) => {
                tracing::warn!(
                    dependency = probe.name(),
                    timeout_ms = timeout.as_millis() as u64,
                    "health probe timed out"
                );
                "timeout"
            }
        };
        (probe.name(), Check { status, latency_ms })
    }))
    .await;
    let failed: Vec<_> = results.iter().filter(|(_, c)| c.status != "ok").map(|(n, _)| *n).collect();
    Report {
        status: if failed.is_empty() { "ok" } else { "unavailable" },
        checks: results.into_iter().collect(),
        failed,
    }
}

/// The last report of an instance and when it was made.
pub struct ReportCache {
    ttl: Duration,
    // Tokio's clock (the same as std's outside tests, which can pause and advance it).
    last: tokio::sync::Mutex<Option<(tokio::time::Instant, Report)>>,
}

impl ReportCache {
    /// Reports are reused for `ttl` (zero: every request probes).
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, last: tokio::sync::Mutex::new(None) }
    }
}

pub async fn handle(
    probes: &[Box<dyn HealthProbe>],
    timeout: Duration,
    cache: &ReportCache,
) -> Result<Response<Body>, AppError> {
    let mut last = cache.last.lock().await;
    if last.as_ref().is_none_or(|(made, _)| made.elapsed() >= cache.ttl) {
        let report = check_all(probes, timeout).await;
        *last = Some((tokio::time::Instant::now(), report));
    }
    let Some((made, report)) = last.as_ref() else { return Err(AppError::internal("no health report after probing")) };
    let status = if report.failed.is_empty() { 200 } else { 503 };
    shared::http::with_header(shared::http::json(status, report)?, "age", &made.elapsed().as_secs().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;

    struct Fixed(&'static str, Result<(), String>, Duration);

    #[async_trait]
    impl HealthProbe for Fixed {
        fn name(&self) -> &'static str {
            self.0
        }
        async fn probe(&self) -> Result<(), String> {
            tokio::time::sleep(self.2).await;
            self.1.clone()
        }
    }

    /// Counts its probes (in a counter the test keeps too); fails once `.1` probes have run.
    struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>, usize);

    #[async_trait]
    impl HealthProbe for Counting {
        fn name(&self) -> &'static str {
            "dynamodb"
        }
        async fn probe(&self) -> Result<(), String> {
            let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n >= self.1 {
                Err("down".into())
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_report_is_reused_for_its_ttl_then_probed_again() {
        let probed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let probes: Vec<Box<dyn HealthProbe>> = vec![Box::new(Counting(probed.clone(), 1))];
        let cache = ReportCache::new(Duration::from_secs(5));
        let age = |r: &Response<Body>| r.headers()["age"].to_str().unwrap().to_owned();
        let first = handle(&probes, Duration::from_secs(1), &cache).await.unwrap();
        assert_eq!((first.status().as_u16(), age(&first)), (200, "0".into()));
        tokio::time::advance(Duration::from_secs(3)).await;
        let cached = handle(&probes, Duration::from_secs(1), &cache).await.unwrap();
        assert_eq!((cached.status().as_u16(), age(&cached)), (200, "3".into()), "the first report, 3 s old");
        assert_eq!(probed.load(std::sync::atomic::Ordering::SeqCst), 1, "no second probe within the ttl");
        tokio::time::advance(Duration::from_secs(3)).await;
        let fresh = handle(&probes, Duration::from_secs(1), &cache).await.unwrap();
        assert_eq!(
            (fresh.status().as_u16(), age(&fresh)),
            (503, "0".into()),
            "probed again: the dependency is down now"
        );
        assert_eq!(probed.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    fn body(resp: &Response<Body>) -> serde_json::Value {
        let Body::Text(t) = resp.body() else { panic!("text body") };
        serde_json::from_str(t).unwrap()
    }

    #[tokio::test]
    async fn all_ok_is_200() {
        let probes: Vec<Box<dyn HealthProbe>> =
            vec![Box::new(Fixed("dynamodb", Ok(()), Duration::ZERO)), Box::new(Fixed("s3", Ok(()), Duration::ZERO))];
        let resp = handle(&probes, Duration::from_secs(1), &ReportCache::new(Duration::ZERO)).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(body(&resp)["checks"]["s3"]["status"], "ok");
    }

    #[tokio::test(start_paused = true)]
    async fn failure_and_timeout_are_503_naming_them() {
        let probes: Vec<Box<dyn HealthProbe>> = vec![
            Box::new(Fixed("dynamodb", Ok(()), Duration::ZERO)),
            Box::new(Fixed("s3", Err("NoSuchBucket".into()), Duration::ZERO)),
            Box::new(Fixed("sqs", Ok(()), Duration::from_secs(5))),
        ];
        let resp = handle(&probes, Duration::from_secs(1), &ReportCache::new(Duration::ZERO)).await.unwrap();
        assert_eq!(resp.status(), 503);
        let v = body(&resp);
        assert_eq!(v["failed"], serde_json::json!(["s3", "sqs"]));
        assert_eq!(v["checks"]["sqs"]["status"], "timeout");
        assert!(!v.to_string().contains("NoSuchBucket"), "reasons stay in the log");
    }
}
