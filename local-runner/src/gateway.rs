//! The HTTP API, as API Gateway (payload format 2.0) serves it: routes from the template,
//! CORS preflights answered by the gateway, the JWT authorizer, and each request turned into
//! an `APIGatewayV2HTTPRequest` event for the route's function.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::auth::{flatten_claims, LocalIssuer, TokenRequest};
use crate::lambda::{FunctionPool, Outcome};
use crate::model::{ApiSpec, Cors};

/// API Gateway's payload limit.
const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

#[derive(Clone)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub auth: bool,
    pub function: Arc<FunctionPool>,
}

pub struct Gateway {
    pub routes: Vec<Route>,
    /// Per proxied request, microseconds spent in the runner itself (routing, auth, event
    /// and response mapping, Runtime API hops): total minus the function's working time.
    pub overhead_us: std::sync::Mutex<Vec<u64>>,
    pub api: ApiSpec,
    pub issuer: Option<LocalIssuer>,
    pub pools: Vec<Arc<FunctionPool>>,
    pub resources: Value,
    pub account: String,
    /// The API contract (`openapi.yaml` beside the template), served at `/openapi.yaml`.
    pub openapi: Option<String>,
    /// CloudFront's stand-in: the S3 client and the bucket behind the template's distribution,
    /// served at `/_local/cdn/{key}`.
    pub cdn: Option<(aws_sdk_s3::Client, String)>,
    /// Each stream event source's position and lag, for `/_local/stats`.
    pub streams: Vec<Arc<std::sync::Mutex<crate::streams::StreamStats>>>,
    /// moto's endpoint and region (SES's sent mail is read there, `/_local/emails`).
    pub aws_endpoint: String,
    pub region: String,
    /// Where SES's bounce and complaint reports go, when the template wires them.
    pub email_feedback: Option<crate::email::FeedbackRoute>,
}

/// How specific a route template is: literal segments beat `{param}`, which beats `{proxy+}`.
fn match_path(template: &str, path: &str) -> Option<(HashMap<String, String>, u32)> {
    let t: Vec<&str> = template.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let mut params = HashMap::new();
    let mut score = 0;
    for (i, seg) in t.iter().enumerate() {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
            if i >= p.len() {
                return None;
            }
            params.insert(name.to_owned(), p[i..].join("/"));
            return Some((params, score));
        }
        let part = p.get(i)?;
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let decoded = percent_encoding::percent_decode_str(part).decode_utf8_lossy().into_owned();
            params.insert(name.to_owned(), decoded);
            score += 1;
        } else if seg == part {
            score += 2;
        } else {
            return None;
        }
    }
    (t.len() == p.len()).then_some((params, score))
}

impl Gateway {
    fn find(&self, method: &str, path: &str) -> Option<(&Route, HashMap<String, String>)> {
        self.routes
            .iter()
            .filter(|r| r.method == method || r.method == "ANY")
            .filter_map(|r| {
                match_path(&r.path, path).map(|(params, score)| (r, params, score + u32::from(r.method != "ANY")))
            })
            .max_by_key(|(_, _, score)| *score)
            .map(|(r, params, _)| (r, params))
    }
}

fn gateway_error(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], json!({ "message": message }).to_string()).into_response()
}

fn origin_allowed(cors: &Cors, origin: &str) -> bool {
    cors.allow_origins.iter().any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
}

fn add_cors(cors: &Cors, origin: Option<&str>, headers: &mut HeaderMap) {
    let Some(origin) = origin.filter(|o| origin_allowed(cors, o)) else { return };
    let allow = if cors.allow_origins.iter().any(|o| o == "*") && !cors.allow_credentials { "*" } else { origin };
    if let Ok(v) = HeaderValue::from_str(allow) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    if !cors.expose_headers.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&cors.expose_headers.join(",")) {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v);
        }
    }
    if cors.allow_credentials {
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// A preflight the gateway answers itself, without invoking a function.
fn preflight(cors: &Cors, headers: &HeaderMap) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let method = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut response = StatusCode::NO_CONTENT.into_response();
    let method_ok = cors.allow_methods.iter().any(|m| m == "*" || m.eq_ignore_ascii_case(method));
    if origin.is_some_and(|o| origin_allowed(cors, o)) && method_ok {
        let h = response.headers_mut();
        add_cors(cors, origin, h);
        if let Ok(v) = HeaderValue::from_str(&cors.allow_methods.join(",")) {
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
        }
        if let Ok(v) = HeaderValue::from_str(&cors.allow_headers.join(",")) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        if let Some(age) = cors.max_age {
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(age));
        }
    }
    response
}

fn is_textual(content_type: Option<&str>) -> bool {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    ct.is_empty()
        || ct.starts_with("text/")
        || ct.contains("json")
        || ct.contains("xml")
        || ct.contains("x-www-form-urlencoded")
        || ct.contains("javascript")
}

/// The API Gateway v2 event for one request.
#[allow(clippy::too_many_arguments)]
pub fn build_event(
    gw: &Gateway,
    route: &Route,
    params: HashMap<String, String>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    claims: Option<&Map<String, Value>>,
    request_id: &str,
) -> Value {
    let mut hmap = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let v = value.to_str().unwrap_or("").to_owned();
        if name == header::COOKIE {
            cookies.extend(v.split(';').map(|c| Value::String(c.trim().to_owned())));
            continue;
        }
        match hmap.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                hmap.insert(name.as_str().to_owned(), Value::String(v));
            }
        }
    }
    let mut qmap: Map<String, Value> = Map::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match qmap.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                qmap.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    let route_key = format!("{} {}", route.method, route.path);
    let now = chrono::Utc::now();
    let mut context = json!({
        "accountId": gw.account,
        "apiId": "local",
        "domainName": headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"),
        "domainPrefix": "local",
        "http": {
            "method": method.as_str(),
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get(header::USER_AGENT).and_then(|h| h.to_str().ok()).unwrap_or(""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({ "jwt": { "claims": flatten_claims(claims), "scopes": Value::Null } });
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": hmap,
        "requestContext": context,
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !qmap.is_empty() {
        event["queryStringParameters"] = Value::Object(qmap);
    }
    if !params.is_empty() {
        event["pathParameters"] = json!(params);
    }
    if !body.is_empty() {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        match std::str::from_utf8(body) {
            Ok(text) if is_textual(ct) => event["body"] = Value::String(text.to_owned()),
            _ => {
                event["body"] = Value::String(STANDARD.encode(body));
                event["isBase64Encoded"] = Value::Bool(true);
            }
        }
    }
    event
}

/// Turns the function's v2 response (or a bare value) into an HTTP response.
pub fn to_http(payload: &[u8]) -> Response {
    let Ok(value) = serde_json::from_slice::<Value>(payload) else {
        return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let Some(status) = value.get("statusCode").and_then(Value::as_u64) else {
        // Payload 2.0 without statusCode: the value itself is a 200 JSON body.
        return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response();
    };
    let body = match value.get("body") {
        Some(Value::String(s)) if value["isBase64Encoded"].as_bool().unwrap_or(false) => {
            STANDARD.decode(s).unwrap_or_default()
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    if let Some(map) = value["headers"].as_object() {
        for (k, v) in map {
            if let (Ok(name), Some(Ok(val))) =
                (header::HeaderName::from_bytes(k.as_bytes()), v.as_str().map(HeaderValue::from_str))
            {
                h.insert(name, val);
            }
        }
    }
    if let Some(map) = value["multiValueHeaders"].as_object() {
        for (k, vs) in map {
            for v in vs.as_array().into_iter().flatten() {
                if let (Ok(name), Some(Ok(val))) =
                    (header::HeaderName::from_bytes(k.as_bytes()), v.as_str().map(HeaderValue::from_str))
                {
                    h.append(name, val);
                }
            }
        }
    }
    for cookie in value["cookies"].as_array().into_iter().flatten() {
        if let Some(Ok(v)) = cookie.as_str().map(HeaderValue::from_str) {
            h.append(header::SET_COOKIE, v);
        }
    }
    response
}

pub async fn handle(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    if path.starts_with("/_local/") {
        return crate::local_api::handle(&gw, parts, body).await;
    }
    if parts.method == Method::GET {
        if let Some(response) = crate::local_api::docs(&gw, &path) {
            return response;
        }
    }
    let origin = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(cors) = &gw.api.cors {
        if parts.method == Method::OPTIONS && parts.headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return preflight(cors, &parts.headers);
        }
    }
    let mut response = route_request(&gw, parts, body, started).await;
    if let Some(cors) = &gw.api.cors {
        add_cors(cors, origin.as_deref(), response.headers_mut());
    }
    response
}

async fn route_request(gw: &Gateway, parts: axum::http::request::Parts, body: Body, started: Instant) -> Response {
    let path = parts.uri.path().to_owned();
    let Some((route, params)) = gw.find(parts.method.as_str(), &path) else {
        return gateway_error(StatusCode::NOT_FOUND, "Not Found");
    };
    let claims = if route.auth {
        match gw
            .issuer
            .as_ref()
            .map(|i| i.verify(parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())))
        {
            Some(Ok(claims)) => Some(claims),
            Some(Err(reason)) => {
                tracing::info!(route = %format!("{} {}", route.method, route.path), reason, "authorizer refused request");
                let mut r = gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized");
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return r;
            }
            None => None,
        }
    } else {
        None
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAYLOAD).await else {
        return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let event = build_event(
        gw,
        route,
        params,
        &parts.method,
        &path,
        parts.uri.query().unwrap_or(""),
        &parts.headers,
        &bytes,
        claims.as_ref(),
        &request_id,
    );
    let invoke_started = Instant::now();
    let (outcome, worked) = route.function.invoke_timed(Bytes::from(event.to_string())).await;
    let response = match outcome {
        Outcome::Response(payload) => to_http(&payload),
        Outcome::FunctionError(_) => gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        Outcome::Failed(reason) if reason.starts_with("Task timed out") => {
            gateway_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
        }
        Outcome::Failed(_) => gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    };
    let mut response = response;
    response
        .headers_mut()
        .insert("apigw-requestid", HeaderValue::from_str(&request_id).unwrap_or(HeaderValue::from_static("local")));
    let total = started.elapsed();
    let overhead = worked.map(|w| total.saturating_sub(w));
    if let Some(o) = overhead {
        let mut samples = gw.overhead_us.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() >= 100_000 {
            samples.clear();
        }
        samples.push(o.as_micros() as u64);
    }
    tracing::info!(
        method = %parts.method, path = %path, status = response.status().as_u16(),
        function = %route.function.spec.logical_id,
        invoke_ms = invoke_started.elapsed().as_secs_f64() * 1000.0,
        runner_overhead_ms = overhead.map(|o| o.as_secs_f64() * 1000.0).unwrap_or(0.0),
        "request"
    );
    response
}

/// p50/p99/max of the runner's own per-request overhead, in milliseconds.
pub fn overhead_summary(gw: &Gateway) -> serde_json::Value {
    let mut samples = gw.overhead_us.lock().unwrap_or_else(|e| e.into_inner()).clone();
    samples.sort_unstable();
    let pick = |q: f64| samples.get(((samples.len() as f64 - 1.0) * q).round() as usize).map(|us| *us as f64 / 1000.0);
    json!({ "requests": samples.len(), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": samples.last().map(|us| *us as f64 / 1000.0) })
}

/// Mints a token for the local issuer (the `/_local/token` endpoint).
pub fn mint(gw: &Gateway, req: &TokenRequest) -> Result<String, String> {
    let issuer = gw.issuer.as_ref().ok_or("the template declares no JWT authorizer")?;
    issuer.mint(req).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_matching() {
        assert_eq!(match_path("/health", "/health").map(|(_, s)| s), Some(2));
        let (params, _) = match_path("/listings/{id}", "/listings/abc%20d").unwrap();
        assert_eq!(params["id"], "abc d");
        assert!(match_path("/listings/{id}", "/listings").is_none());
        assert!(match_path("/listings/{id}", "/listings/a/b").is_none());
        let (params, _) = match_path("/files/{proxy+}", "/files/a/b/c").unwrap();
        assert_eq!(params["proxy"], "a/b/c");
        // Literal beats parameter.
        assert!(
            match_path("/me/listings", "/me/listings").unwrap().1
                > match_path("/{a}/listings", "/me/listings").unwrap().1
        );
    }

    #[test]
    fn response_mapping() {
        let r = to_http(br#"{"statusCode":201,"headers":{"location":"/x","content-type":"application/json"},"body":"{}","isBase64Encoded":false,"cookies":["a=b"]}"#);
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["location"], "/x");
        assert_eq!(r.headers()["set-cookie"], "a=b");
        assert_eq!(to_http(b"not json").status(), 500);
        assert_eq!(to_http(br#"{"hello":"world"}"#).status(), 200);
    }
}
