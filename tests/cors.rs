//! CORS as the HTTP API applies the template's CorsConfiguration.

use integration_tests::{env, http};

#[tokio::test]
async fn preflight_from_an_allowed_origin_is_answered_by_the_gateway() {
    let resp = http()
        .request(reqwest::Method::OPTIONS, env().url("/me"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("PATCH"));
    assert!(h["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    assert_eq!(h["access-control-max-age"], "600");
}

#[tokio::test]
async fn other_origins_get_no_cors_headers() {
    let resp = http()
        .request(reqwest::Method::OPTIONS, env().url("/me"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "PATCH")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let simple = http().get(env().url("/health")).header("origin", "https://evil.example").send().await.unwrap();
    assert!(simple.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn actual_responses_carry_cors_headers() {
    let resp = http().get(env().url("/health")).header("origin", "http://localhost:5173").send().await.unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "http://localhost:5173");
    assert!(resp.headers()["access-control-expose-headers"].to_str().unwrap().contains("etag"));
}
