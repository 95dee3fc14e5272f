//! `GET /health` (no auth): probes every dependency concurrently, each under its own
//! timeout. 200 when all answer, 503 naming the ones that did not. Reasons go to the log,
//! not the (public) response.

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
                tracing::warn!(dependency = probe.name(), timeout_ms = timeout.as_millis() as u64, "health probe timed out");
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

pub async fn handle(probes: &[Box<dyn HealthProbe>], timeout: Duration) -> Result<Response<Body>, AppError> {
    let report = check_all(probes, timeout).await;
    let status = if report.failed.is_empty() { 200 } else { 503 };
    shared::http::json(status, &report)
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

    fn body(resp: &Response<Body>) -> serde_json::Value {
        let Body::Text(t) = resp.body() else { panic!("text body") };
        serde_json::from_str(t).unwrap()
    }

    #[tokio::test]
    async fn all_ok_is_200() {
        let probes: Vec<Box<dyn HealthProbe>> = vec![
            Box::new(Fixed("dynamodb", Ok(()), Duration::ZERO)),
            Box::new(Fixed("s3", Ok(()), Duration::ZERO)),
        ];
        let resp = handle(&probes, Duration::from_secs(1)).await.unwrap();
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
        let resp = handle(&probes, Duration::from_secs(1)).await.unwrap();
        assert_eq!(resp.status(), 503);
        let v = body(&resp);
        assert_eq!(v["failed"], serde_json::json!(["s3", "sqs"]));
        assert_eq!(v["checks"]["sqs"]["status"], "timeout");
        assert!(!v.to_string().contains("NoSuchBucket"), "reasons stay in the log");
    }
}
