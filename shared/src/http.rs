//! The shared HTTP layer every API function runs through: one span per invocation, body
//! parsing with limits, the single error -> problem+json mapping, and security headers.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use crate::error::AppError;
pub use crate::json::parse_json;

/// Largest request body any endpoint accepts (413 beyond).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub const JSON: &str = "application/json";
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What a handler returns, boxed: the Lambda runtime below is then compiled once, in this
/// crate, instead of once in every function binary (decision 0023).
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Response<Body>, AppError>> + Send + 'a>>;

/// Runs `handler` as this process's Lambda handler until the runtime shuts down.
pub async fn run<'a, F, Fut>(handler: &'a F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Sync + 'a,
    Fut: Future<Output = Result<Response<Body>, AppError>> + Send + 'a,
{
    serve(&move |req| -> HandlerFuture<'a> { Box::pin(handler(req)) }).await
}

/// The runtime loop as a boxed future: boxing makes this crate compile the loop (lambda_http,
/// tower, hyper), which an `async fn` here would leave to each caller's crate.
fn serve<'h, 'a: 'h>(
    handler: &'h (dyn Fn(Request) -> HandlerFuture<'a> + Sync + 'a),
) -> Pin<Box<dyn Future<Output = Result<(), lambda_http::Error>> + 'h>> {
    Box::pin(lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
        Ok::<_, std::convert::Infallible>(respond(handler, req).await)
    })))
}

/// Handles one request: invokes `handler` inside the invocation span, maps its error,
/// adds the headers every response carries and logs route, status and latency.
pub async fn respond<F, Fut>(handler: &F, req: Request) -> Response<Body>
where
    F: Fn(Request) -> Fut + ?Sized,
    Fut: Future<Output = Result<Response<Body>, AppError>>,
{
    let request_id = req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default();
    let span = match req.lambda_context_ref() {
        Some(ctx) => crate::telemetry::invocation_span(ctx),
        None => tracing::info_span!("invocation", request_id = %request_id),
    };
    let route = route_key(&req);
    let authenticated = req.headers().contains_key(http::header::AUTHORIZATION);
    async move {
        let started = Instant::now();
        let mut response = match handler(req).await {
            Ok(response) => response,
            Err(err) => {
                if err.status() >= 500 {
                    let source = std::error::Error::source(&err).map(|s| s.to_string());
                    tracing::error!(code = err.code(), error = %err, source = source.as_deref().unwrap_or(""), "request failed");
                } else {
                    tracing::info!(code = err.code(), "request refused");
                }
                problem_response(&err, &request_id)
            }
        };
        add_standard_headers(&mut response, authenticated);
        tracing::info!(
            route = %route,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request handled"
        );
        response
    }
    .instrument(span)
    .await
}

/// `GET /listings/{id}` style route key from the API Gateway v2 context.
pub fn route_key(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone().unwrap_or_default(),
        _ => format!("{} {}", req.method(), req.uri().path()),
    }
}

fn add_standard_headers(response: &mut Response<Body>, authenticated: bool) {
    let headers = response.headers_mut();
    headers.insert("strict-transport-security", hv("max-age=63072000; includeSubDomains"));
    headers.insert("x-content-type-options", hv("nosniff"));
    if authenticated || !headers.contains_key(http::header::CACHE_CONTROL) {
        // Per-user answers must never sit in a shared cache; public endpoints opt in explicitly.
        headers.insert(http::header::CACHE_CONTROL, hv("no-store"));
    }
}

fn hv(value: &'static str) -> http::HeaderValue {
    http::HeaderValue::from_static(value)
}

/// The problem+json response for `err`.
pub fn problem_response(err: &AppError, request_id: &str) -> Response<Body> {
    let problem = err.to_problem(request_id);
    let body = serde_json::to_string(&problem).unwrap_or_else(|_| "{}".to_owned());
    let mut builder = Response::builder().status(problem.status).header(http::header::CONTENT_TYPE, PROBLEM_JSON);
    match err {
        AppError::Unauthorized => builder = builder.header(http::header::WWW_AUTHENTICATE, "Bearer"),
        // A dependency that is down or throttling: a client may try again shortly.
        AppError::Unavailable { .. } => builder = builder.header(http::header::RETRY_AFTER, "5"),
        AppError::TooManyRequests { retry_after } => builder = builder.header(http::header::RETRY_AFTER, *retry_after),
        _ => {}
    }
    builder.body(Body::Text(body)).unwrap_or_else(|_| Response::new(Body::Empty))
}

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: u16, body: &T) -> Result<Response<Body>, AppError> {
    let text = serde_json::to_string(body).map_err(AppError::internal)?;
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, JSON)
        .body(Body::Text(text))
        .map_err(AppError::internal)
}

/// The raw bytes of the request body (API Gateway may have base64-decoded them for us).
pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// Every query parameter as sent, repeats included (so a parser can refuse them).
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.query_string_parameters_ref()
        .map(|q| q.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
        .unwrap_or_default()
}

/// A path parameter of the route (`{id}` in `/listings/{id}`); missing means a routing
/// mistake, reported as the resource not being found.
pub fn path_param(req: &Request, name: &str, resource: &'static str) -> Result<String, AppError> {
    req.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_owned).ok_or(AppError::NotFound(resource))
}

/// A request header as text, if present and valid.
pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Adds a header to a response built by [`json`].
pub fn with_header(mut response: Response<Body>, name: &'static str, value: &str) -> Result<Response<Body>, AppError> {
    let value = http::HeaderValue::from_str(value).map_err(AppError::internal)?;
    response.headers_mut().insert(name, value);
    Ok(response)
}

/// `response` to a public read: browsers and CDNs may keep it 30 s when the caller sent no
/// token (an anonymous answer is everyone's; decision 0007).
pub fn cacheable_when_anonymous(req: &Request, response: Response<Body>) -> Result<Response<Body>, AppError> {
    if header(req, "authorization").is_some() {
        return Ok(response);
    }
    with_header(response, "cache-control", "public, max-age=30")
}

/// An empty response with `status` (204 and friends).
pub fn empty(status: u16) -> Result<Response<Body>, AppError> {
    Response::builder().status(status).body(Body::Empty).map_err(AppError::internal)
}

/// Parses the JSON body into `T` (whose serde attributes should `deny_unknown_fields`).
///
/// 413 over [`MAX_BODY_BYTES`]; 415 when a content type other than JSON is declared;
/// 400 `body_required`, `malformed_json`, `unknown_field` or `invalid_field` naming the path.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, AppError> {
    let bytes = body_bytes(req);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    if let Some(ct) = req.headers().get(http::header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if essence != JSON && !essence.ends_with("+json") {
            return Err(AppError::UnsupportedMediaType { expected: JSON });
        }
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_request("body_required", "a JSON body is required"));
    }
    parse_json(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        nested: Option<Nested>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        count: u32,
    }

    fn request(body: &str, content_type: Option<&str>) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/x");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    fn code_of(r: Result<Input, AppError>) -> (u16, String) {
        let e = r.unwrap_err();
        (e.status(), e.code().to_owned())
    }

    #[test]
    fn body_rules() {
        assert_eq!(code_of(json_body(&request("{\"name\":\"a\",\"x\":1}", Some(JSON)))), (400, "unknown_field".into()));
        assert_eq!(code_of(json_body(&request("{\"name\":", Some(JSON)))), (400, "malformed_json".into()));
        assert_eq!(code_of(json_body(&request("", Some(JSON)))), (400, "body_required".into()));
        assert_eq!(
            code_of(json_body(&request("{\"name\":\"a\"}", Some("text/plain")))),
            (415, "unsupported_media_type".into())
        );
        let big = format!("{{\"name\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        assert_eq!(code_of(json_body(&request(&big, Some(JSON)))), (413, "payload_too_large".into()));
        assert!(json_body::<Input>(&request("{\"name\":\"a\"}", Some("application/json; charset=utf-8"))).is_ok());
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err =
            json_body::<Input>(&request("{\"name\":\"a\",\"nested\":{\"count\":\"many\"}}", Some(JSON))).unwrap_err();
        assert_eq!(err.code(), "invalid_field");
        assert!(err.to_string().starts_with("nested.count: invalid type"), "{err}");
        assert!(!err.to_string().contains("line"), "{err}");
    }

    #[tokio::test]
    async fn errors_become_problem_json_with_headers() {
        let handler = |_req: Request| async { Err::<Response<Body>, _>(AppError::NotFound("listing")) };
        let req = request("", None);
        let resp = respond(&handler, req).await;
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.headers()["content-type"], PROBLEM_JSON);
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert_eq!(resp.headers()["cache-control"], "no-store");
        assert!(resp.headers().contains_key("strict-transport-security"));
        let Body::Text(body) = resp.body() else { panic!("text body expected") };
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["code"], "not_found");
        assert_eq!(v["status"], 404);
    }
}
