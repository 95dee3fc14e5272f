//! GET /health through the local API gateway, backed by the real health binary and moto.

use integration_tests::{env, http, PrivateRunner};
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn healthy_stack_answers_200_with_every_dependency() {
    let resp = http().get(env().url("/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let deps = [
        "dynamodb",
        "s3",
        "sqs:booking-events",
        "sqs:payments",
        "secretsmanager:stripe",
        "secretsmanager:cursor",
        "search",
    ];
    assert_eq!(body["checks"].as_object().unwrap().len(), deps.len(), "every dependency, no more: {body}");
    for dep in deps {
        assert_eq!(body["checks"][dep]["status"], "ok", "{dep}: {body}");
        assert!(body["checks"][dep]["latency_ms"].as_f64().is_some(), "{dep} latency");
    }
    assert_eq!(body["failed"], serde_json::json!([]));
}

#[tokio::test]
async fn missing_bucket_makes_it_503_naming_s3() {
    // A stack of its own, so removing its bucket disturbs no other test.
    let runner = PrivateRunner::start("health").await;
    let config = integration_tests::aws_config(&env().aws_endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
    s3.delete_bucket()
        .bucket(runner.reference("UploadsBucket"))
        .send()
        .await
        .expect("deleting the private stack's bucket");

    let resp = http().get(format!("{}/health", runner.api)).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["failed"], serde_json::json!(["s3"]));
    assert_eq!(body["checks"]["s3"]["status"], "error");
    assert_eq!(body["checks"]["dynamodb"]["status"], "ok");
    assert!(
        !body.to_string().contains("NoSuchBucket") && !body.to_string().contains(&runner.stack),
        "no internals in a public answer: {body}"
    );
}

#[tokio::test]
async fn recycled_instance_is_replaced_by_a_cold_one() {
    // What scripts/bench does for its cold starts, on a stack of its own (no other callers),
    // with nothing but direct invokes: an instance stopped while idle must not swallow the next
    // invocation, and the next one starts cold.
    let runner = PrivateRunner::start_with(
        "recycle",
        &format!("{}/template.yaml", std::env::var("PROJECT_ROOT").unwrap()),
        &["--no-event-sources".to_owned()],
    )
    .await;
    let fixture =
        std::fs::read_to_string(format!("{}/events/health.json", std::env::var("PROJECT_ROOT").unwrap())).unwrap();
    let invoke = || async {
        let resp = http()
            .post(format!("{}/_local/functions/HealthFunction/invoke", runner.api))
            .body(fixture.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["response"]["statusCode"], 200, "{body}");
        assert!(body["duration_ms"].as_f64().is_some_and(|ms| ms > 0.0), "the function's own working time: {body}");
    };
    let stats = || async {
        let body: Value =
            http().get(format!("{}/_local/stats", runner.api)).send().await.unwrap().json().await.unwrap();
        body["functions"]["HealthFunction"].clone()
    };
    invoke().await;
    let first = stats().await;
    assert_eq!(first["instances_started"], 1);
    assert_eq!(first["memory_mb"], 128);
    assert_eq!(first["binary"], "health");

    let resp: Value = http()
        .post(format!("{}/_local/functions/HealthFunction/recycle", runner.api))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["stopped"], 1);
    let after = stats().await;
    assert!(after["processes"].as_array().unwrap().iter().all(|p| p["alive"] == false), "{after}");

    tokio::time::timeout(Duration::from_secs(8), invoke())
        .await
        .expect("the invocation after a recycle is served, not lost");
    let cold = stats().await;
    assert_eq!(cold["instances_started"], 2);
    assert_eq!(cold["init_ms"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_search_engine_is_503_with_a_retry_hint_and_health_names_it() {
    // A port nothing listens on: the engine down, for a stack of its own.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let root = std::env::var("PROJECT_ROOT").unwrap();
    let extra = ["--param".to_owned(), format!("SearchEndpoint=http://127.0.0.1:{dead}")];
    let runner = PrivateRunner::start_with("nosearch", &format!("{root}/template.yaml"), &extra).await;

    let resp = http().get(format!("{}/listings?q=drill", runner.api)).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "5");
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "service_unavailable", "{problem}");

    let resp = http().get(format!("{}/health", runner.api)).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["failed"], serde_json::json!(["search"]), "{body}");
}
