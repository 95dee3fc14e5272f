//! Runner-only endpoints under `/_local/` (never deployed): tokens for the local issuer,
//! its JWKS, the provisioned resources, per-function stats, and direct invocation (how a
//! test or a developer runs a scheduled function now).

use axum::body::Body;
use axum::http::{header, request::Parts, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::auth::TokenRequest;
use crate::gateway::Gateway;
use crate::lambda::Outcome;

fn json_response(status: StatusCode, value: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

pub async fn handle(gw: &Gateway, parts: Parts, body: Body) -> Response {
    let path = parts.uri.path();
    let body = axum::body::to_bytes(body, 6 * 1024 * 1024).await.unwrap_or_default();
    match (&parts.method, path) {
        (&Method::POST, "/_local/token") => match serde_json::from_slice::<TokenRequest>(&body) {
            Ok(req) => match crate::gateway::mint(gw, &req) {
                Ok(token) => json_response(StatusCode::OK, json!({ "token": token })),
                Err(e) => json_response(StatusCode::BAD_REQUEST, json!({ "message": e })),
            },
            Err(e) => json_response(StatusCode::BAD_REQUEST, json!({ "message": e.to_string() })),
        },
        (&Method::GET, "/_local/.well-known/jwks.json") => match &gw.issuer {
            Some(issuer) => json_response(StatusCode::OK, issuer.jwks().clone()),
            None => json_response(StatusCode::NOT_FOUND, json!({ "message": "no JWT authorizer" })),
        },
        (&Method::GET, "/_local/resources") => json_response(StatusCode::OK, gw.resources.clone()),
        (&Method::GET, "/_local/stats") => {
            let functions: serde_json::Map<String, Value> = gw.pools.iter().map(|p| (p.spec.logical_id.clone(), json!(p.snapshot()))).collect();
            json_response(StatusCode::OK, json!({ "functions": functions, "runner_overhead": crate::gateway::overhead_summary(gw) }))
        }
        (&Method::POST, p) if p.starts_with("/_local/functions/") && p.ends_with("/invoke") => {
            let name = p.trim_start_matches("/_local/functions/").trim_end_matches("/invoke");
            let Some(pool) = gw.pools.iter().find(|f| f.spec.logical_id == name || f.spec.name == name) else {
                return json_response(StatusCode::NOT_FOUND, json!({ "message": format!("no function {name}") }));
            };
            let payload = if body.is_empty() { Bytes::from_static(b"{}") } else { body };
            match pool.invoke(payload).await {
                Outcome::Response(bytes) => {
                    let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
                    json_response(StatusCode::OK, json!({ "response": value }))
                }
                Outcome::FunctionError(err) => json_response(StatusCode::OK, json!({ "error": err })),
                Outcome::Failed(reason) => json_response(StatusCode::BAD_GATEWAY, json!({ "error": { "errorMessage": reason } })),
            }
        }
        _ => json_response(StatusCode::NOT_FOUND, json!({ "message": "Not Found" })),
    }
}
