//! Runner-only endpoints under `/_local/` (never deployed): tokens for the local issuer,
//! its JWKS, the provisioned resources, per-function stats, and direct invocation (how a
//! test or a developer runs a scheduled function now), the e-mail SES sent and its bounce and
//! complaint reports (`crate::email`). Also the API contract at
//! `/openapi.yaml` and its rendered docs at `/docs` (a vendored Redoc bundle).

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

/// `GET|HEAD /_local/cdn/{key}`: what the CloudFront distribution serves in AWS (objects of
/// its origin bucket, with their own Content-Type and Cache-Control), read with the runner's
/// credentials as CloudFront reads with its origin access control.
async fn cdn(gw: &Gateway, method: &Method, key: &str) -> Response {
    let Some((s3, bucket)) = &gw.cdn else {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({ "message": "the template declares no CloudFront distribution" }),
        );
    };
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let mut builder = Response::builder().status(StatusCode::OK);
            if let Some(ct) = out.content_type() {
                builder = builder.header(header::CONTENT_TYPE, ct);
            }
            if let Some(cc) = out.cache_control() {
                builder = builder.header(header::CACHE_CONTROL, cc);
            }
            if let Some(lm) =
                out.last_modified().and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::HttpDate).ok())
            {
                builder = builder.header(header::LAST_MODIFIED, lm);
            }
            let bytes = if method == Method::HEAD {
                Vec::new()
            } else {
                out.body.collect().await.map(|b| b.to_vec()).unwrap_or_default()
            };
            builder.body(Body::from(bytes)).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Err(_) => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

pub async fn handle(gw: &Gateway, parts: Parts, body: Body) -> Response {
    let path = parts.uri.path();
    if let Some(key) = path.strip_prefix("/_local/cdn/") {
        return cdn(gw, &parts.method, key).await;
    }
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
            let functions: serde_json::Map<String, Value> =
                gw.pools.iter().map(|p| (p.spec.logical_id.clone(), json!(p.snapshot()))).collect();
            let streams: Vec<Value> =
                gw.streams.iter().map(|s| json!(s.lock().unwrap_or_else(|e| e.into_inner()).clone())).collect();
            json_response(
                StatusCode::OK,
                json!({ "functions": functions, "streams": streams, "runner_overhead": crate::gateway::overhead_summary(gw) }),
            )
        }
        (&Method::POST, p) if p.starts_with("/_local/functions/") => {
            let Some((name, action)) = p.trim_start_matches("/_local/functions/").split_once('/') else {
                return json_response(StatusCode::NOT_FOUND, json!({ "message": "Not Found" }));
            };
            let Some(pool) = gw.pools.iter().find(|f| f.spec.logical_id == name || f.spec.name == name) else {
                return json_response(StatusCode::NOT_FOUND, json!({ "message": format!("no function {name}") }));
            };
            match action {
                "invoke" => invoke(pool, body).await,
                // Stops the idle instances: the next invocation is a cold start (the benchmarks').
                "recycle" => json_response(StatusCode::OK, json!({ "stopped": pool.recycle().await })),
                _ => json_response(StatusCode::NOT_FOUND, json!({ "message": "Not Found" })),
            }
        }
        (&Method::GET, "/_local/emails") => {
            let to = parts.uri.query().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "to").map(|(_, v)| v.into_owned())
            });
            match crate::email::sent(&gw.aws_endpoint, &gw.region, to.as_deref()).await {
                Ok(list) => json_response(StatusCode::OK, json!({ "emails": list })),
                Err(e) => json_response(StatusCode::BAD_GATEWAY, json!({ "message": format!("{e:#}") })),
            }
        }
        (&Method::POST, p) if p.starts_with("/_local/emails/") => {
            let Some((id, kind)) = p.trim_start_matches("/_local/emails/").split_once('/') else {
                return json_response(StatusCode::NOT_FOUND, json!({ "message": "Not Found" }));
            };
            email_feedback(gw, id, kind).await
        }
        _ => json_response(StatusCode::NOT_FOUND, json!({ "message": "Not Found" })),
    }
}

/// `POST /_local/emails/{id}/bounce|complaint`: SES's report of sent message `id`, delivered
/// as the template routes it (see `crate::email`).
async fn email_feedback(gw: &Gateway, id: &str, kind: &str) -> Response {
    let Some(route) = &gw.email_feedback else {
        return json_response(StatusCode::NOT_FOUND, json!({ "message": "the template routes no SES feedback" }));
    };
    let sent = match crate::email::sent(&gw.aws_endpoint, &gw.region, None).await {
        Ok(sent) => sent,
        Err(e) => return json_response(StatusCode::BAD_GATEWAY, json!({ "message": format!("{e:#}") })),
    };
    let Some(message) = sent.iter().find(|m| m["id"] == id) else {
        return json_response(StatusCode::NOT_FOUND, json!({ "message": format!("no sent e-mail {id}") }));
    };
    match route.report(message, kind, &gw.account, &gw.region).await {
        Ok(event) => json_response(StatusCode::OK, event),
        Err(e) => json_response(StatusCode::BAD_REQUEST, json!({ "message": format!("{e:#}") })),
    }
}

/// `POST /_local/functions/{name}/invoke`: the body is the event; the answer carries the
/// function's response or error and its own working time (`/next` -> `/response`).
async fn invoke(pool: &std::sync::Arc<crate::lambda::FunctionPool>, body: Bytes) -> Response {
    let payload = if body.is_empty() { Bytes::from_static(b"{}") } else { body };
    let (outcome, worked) = pool.invoke_timed(payload).await;
    let duration_ms = worked.map(|d| d.as_secs_f64() * 1000.0);
    match outcome {
        Outcome::Response(bytes) => {
            let value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
            json_response(StatusCode::OK, json!({ "response": value, "duration_ms": duration_ms }))
        }
        Outcome::FunctionError(err) => {
            json_response(StatusCode::OK, json!({ "error": err, "duration_ms": duration_ms }))
        }
        Outcome::Failed(reason) => {
            json_response(StatusCode::BAD_GATEWAY, json!({ "error": { "errorMessage": reason } }))
        }
    }
}

const REDOC_JS: &str = include_str!("../assets/redoc/redoc.standalone.js");

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>rental-portal API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <redoc spec-url="/openapi.yaml"></redoc>
  <script src="/docs/redoc.standalone.js"></script>
</body>
</html>
"#;

/// `GET /openapi.yaml`, `GET /docs` and its script; `None` for any other path.
pub fn docs(gw: &Gateway, path: &str) -> Option<Response> {
    let (content_type, body) = match path {
        "/openapi.yaml" => ("application/yaml", gw.openapi.clone()?),
        "/docs" | "/docs/" => ("text/html; charset=utf-8", DOCS_HTML.to_owned()),
        "/docs/redoc.standalone.js" => ("text/javascript; charset=utf-8", REDOC_JS.to_owned()),
        _ => return None,
    };
    Some((StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// `(METHOD, /path)` of every HttpApi route in the template.
    fn template_routes(template: &serde_json::Value) -> BTreeSet<(String, String)> {
        let mut routes = BTreeSet::new();
        for resource in template["Resources"].as_object().into_iter().flat_map(|m| m.values()) {
            for event in resource["Properties"]["Events"].as_object().into_iter().flat_map(|m| m.values()) {
                if event["Type"] == "HttpApi" {
                    let p = &event["Properties"];
                    routes.insert((
                        p["Method"].as_str().unwrap_or("ANY").to_uppercase(),
                        p["Path"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
        routes
    }

    /// `(METHOD, /path)` of every operation in the OpenAPI file.
    fn openapi_routes(openapi: &serde_json::Value) -> BTreeSet<(String, String)> {
        const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];
        let mut routes = BTreeSet::new();
        for (path, item) in openapi["paths"].as_object().into_iter().flatten() {
            for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
        routes
    }

    #[test]
    fn every_template_route_is_in_openapi_and_vice_versa() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let template = crate::template::load(&root.join("template.yaml")).unwrap();
        let openapi: serde_json::Value =
            serde_norway::from_str(&std::fs::read_to_string(root.join("openapi.yaml")).unwrap()).unwrap();
        assert_eq!(openapi["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true), "OpenAPI 3.1");
        let (t, o) = (template_routes(&template), openapi_routes(&openapi));
        assert!(t.len() >= 9, "the template's routes were found: {t:?}");
        let missing_in_openapi: Vec<_> = t.difference(&o).collect();
        let missing_in_template: Vec<_> = o.difference(&t).collect();
        assert!(missing_in_openapi.is_empty(), "routes in template.yaml but not openapi.yaml: {missing_in_openapi:?}");
        assert!(
            missing_in_template.is_empty(),
            "routes in openapi.yaml but not template.yaml: {missing_in_template:?}"
        );
    }
}

#[cfg(test)]
mod iam_tests {
    use serde_json::Value;

    fn strings(v: &Value) -> Vec<Value> {
        match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        }
    }

    /// Least privilege, checked: every function's own statements name their actions and
    /// resources; a `*` resource or a whole-service action is refused unless the function's
    /// `Metadata.IamWildcardReason` says why AWS requires it. AWS managed policies (broad by
    /// design) are refused outright; SAM policy templates are scoped by their parameters.
    #[test]
    fn no_unjustified_iam_wildcards() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let template = crate::template::load(&root.join("template.yaml")).unwrap();
        let mut problems = Vec::new();
        let mut checked = 0;
        for (name, resource) in template["Resources"].as_object().unwrap() {
            if resource["Type"] != "AWS::Serverless::Function" {
                continue;
            }
            let justified = resource["Metadata"]["IamWildcardReason"].as_str().is_some_and(|r| r.len() > 10);
            // A policy under `Fn::If` is checked in both branches (`AWS::NoValue` adds nothing).
            let policies: Vec<Value> = resource["Properties"]["Policies"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .flat_map(|p| match p["Fn::If"].as_array() {
                    Some(branches) => branches.iter().skip(1).filter(|b| b["Ref"] != "AWS::NoValue").cloned().collect(),
                    None => vec![p],
                })
                .collect();
            if policies.is_empty() {
                problems
                    .push(format!("{name}: no policies (it would run with none, or someone adds a broad one later)"));
            }
            for policy in policies {
                match &policy {
                    Value::String(managed) => problems.push(format!("{name}: AWS managed policy {managed}")),
                    Value::Object(map) if map.contains_key("Statement") => {
                        for statement in strings(&policy["Statement"]) {
                            checked += 1;
                            if statement["Effect"] != "Allow" {
                                continue;
                            }
                            for action in strings(&statement["Action"]) {
                                let a = action.as_str().unwrap_or_default();
                                if (a == "*" || a.ends_with(":*")) && !justified {
                                    problems.push(format!("{name}: action {a}"));
                                }
                            }
                            for res in strings(&statement["Resource"]) {
                                if res.as_str() == Some("*") && !justified {
                                    problems.push(format!("{name}: resource *"));
                                }
                            }
                        }
                    }
                    Value::Object(map) => {
                        // A SAM policy template, e.g. SQSSendMessagePolicy: {QueueName: !GetAtt ...}.
                        for (template_name, params) in map {
                            if params.as_object().is_none_or(|p| p.values().any(|v| v.as_str() == Some("*"))) {
                                problems
                                    .push(format!("{name}: policy template {template_name} without a named resource"));
                            }
                        }
                    }
                    other => problems.push(format!("{name}: unexpected policy {other}")),
                }
            }
        }
        assert!(checked > 20, "the functions' statements were found ({checked})");
        assert!(problems.is_empty(), "IAM wildcards without a reason:\n{}", problems.join("\n"));
    }
}

#[cfg(test)]
mod fixture_tests {
    /// Every function has a trigger fixture in `events/` (`cargo lambda invoke --data-file`),
    /// named after its folder, and it is JSON.
    #[test]
    fn every_function_has_a_fixture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let template = crate::template::load(&root.join("template.yaml")).unwrap();
        let mut checked = 0;
        for (name, resource) in template["Resources"].as_object().unwrap() {
            if resource["Type"] != "AWS::Serverless::Function" {
                continue;
            }
            let code = resource["Properties"]["CodeUri"].as_str().unwrap();
            let folder = code.trim_end_matches('/').rsplit('/').next().unwrap();
            let path = root.join("events").join(format!("{folder}.json"));
            let text =
                std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{name}: no fixture {}", path.display()));
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{name}: {} is not JSON: {e}", path.display()));
            checked += 1;
        }
        assert!(checked >= 33, "{checked} functions");
    }
}
