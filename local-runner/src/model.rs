//! The stack as the runner needs it, read from the resolved template: functions with their
//! environment and event sources, and the HTTP API's routes, authorizer and CORS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::resolve::Resolver;

#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// Lambda function name (local physical name).
    pub name: String,
    /// The cargo package (and binary) built from `CodeUri`.
    pub binary: String,
    /// `Handler`, passed as `_HANDLER`: what the deploy bundle dispatches on.
    pub handler: String,
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
    pub memory_mb: u32,
    pub log_level: Option<String>,
    pub events: Vec<EventSource>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventSource {
    Http { method: String, path: String, auth: bool },
    Sqs { queue_arn: String, batch_size: i32, report_failures: bool },
    S3 { bucket: String, events: Vec<String>, prefix: Option<String>, suffix: Option<String> },
    Schedule { every: Duration, input: Option<Value> },
    Stream(StreamSpec),
}

/// A DynamoDB stream event source mapping, as the template configures it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSpec {
    pub stream_arn: String,
    /// `TRIM_HORIZON` or `LATEST`.
    pub starting_position: String,
    pub batch_size: usize,
    pub batching_window: Duration,
    pub bisect_on_error: bool,
    /// `None`: retried until the record expires (-1, Lambda's default).
    pub max_retries: Option<u32>,
    /// `None`: no age limit (-1, Lambda's default).
    pub max_record_age: Option<Duration>,
    pub report_failures: bool,
    /// `FilterCriteria.Filters[].Pattern`, parsed: a record is delivered if any matches.
    pub filters: Vec<Value>,
    /// The on-failure destination's ARN (an SQS queue).
    pub on_failure: Option<String>,
}

/// `Properties` of a SAM `DynamoDB` event.
fn stream_spec(p: &Value) -> Result<StreamSpec> {
    let limit = |key: &str| p[key].as_i64().filter(|n| *n >= 0);
    let filters = p["FilterCriteria"]["Filters"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let pattern = f["Pattern"].as_str().context("a filter needs a Pattern")?;
            serde_json::from_str(pattern).with_context(|| format!("filter pattern {pattern} is not JSON"))
        })
        .collect::<Result<Vec<Value>>>()?;
    let on_failure = &p["DestinationConfig"]["OnFailure"];
    if !on_failure.is_null() && on_failure["Type"].as_str().unwrap_or("SQS") != "SQS" {
        bail!("only SQS on-failure destinations are emulated");
    }
    Ok(StreamSpec {
        stream_arn: p["Stream"].as_str().context("DynamoDB event needs Stream")?.to_owned(),
        starting_position: p["StartingPosition"].as_str().unwrap_or("LATEST").to_owned(),
        batch_size: p["BatchSize"].as_u64().unwrap_or(100).clamp(1, 10_000) as usize,
        batching_window: Duration::from_secs(p["MaximumBatchingWindowInSeconds"].as_u64().unwrap_or(0)),
        bisect_on_error: p["BisectBatchOnFunctionError"].as_bool().unwrap_or(false),
        max_retries: limit("MaximumRetryAttempts").map(|n| n as u32),
        max_record_age: limit("MaximumRecordAgeInSeconds").map(|n| Duration::from_secs(n as u64)),
        report_failures: strings(&p["FunctionResponseTypes"]).iter().any(|t| t == "ReportBatchItemFailures"),
        filters,
        on_failure: on_failure["Destination"].as_str().map(str::to_owned),
    })
}

#[derive(Debug, Clone, Default)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<i64>,
    pub allow_credentials: bool,
}

#[derive(Debug, Clone)]
pub struct JwtAuthorizer {
    pub issuer: String,
    pub audience: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ApiSpec {
    pub cors: Option<Cors>,
    pub authorizer: Option<JwtAuthorizer>,
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub functions: Vec<FunctionSpec>,
    pub api: ApiSpec,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn env_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(env_string).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The cargo package name in `CodeUri`'s Cargo.toml (the binary cargo builds for it).
fn package_name(project_root: &Path, code_uri: &str) -> Result<String> {
    let manifest: PathBuf = project_root.join(code_uri).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(rest) = line.strip_prefix("name") {
                let value = rest.trim_start().trim_start_matches('=').trim().trim_matches('"');
                return Ok(value.to_owned());
            }
        }
    }
    bail!("{} has no [package] name", manifest.display())
}

/// `rate(5 minutes)` -> 300 s. Cron expressions are not emulated (logged and skipped).
pub fn parse_rate(expr: &str) -> Option<Duration> {
    let inner = expr.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.trim().split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    let seconds = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n * seconds))
}

impl Stack {
    pub fn from_template(template: &Value, resolver: &Resolver, project_root: &Path) -> Result<Self> {
        let globals = resolver.resolve(&template["Globals"]["Function"])?;
        let mut functions = Vec::new();
        let mut api = ApiSpec::default();
        let resources = template["Resources"].as_object().context("template has no Resources")?;
        for (logical, resource) in resources {
            match resource["Type"].as_str() {
                Some("AWS::Serverless::HttpApi") => {
                    let props = resolver.resolve(&resource["Properties"])?;
                    api = api_spec(&props)?;
                }
                Some("AWS::Serverless::Function") => {
                    functions.push(function_spec(logical, resource, &globals, resolver, project_root)?);
                }
                _ => {}
            }
        }
        functions.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
        Ok(Stack { functions, api })
    }
}

fn api_spec(props: &Value) -> Result<ApiSpec> {
    let cors = props.get("CorsConfiguration").map(|c| Cors {
        allow_origins: strings(&c["AllowOrigins"]),
        allow_methods: strings(&c["AllowMethods"]),
        allow_headers: strings(&c["AllowHeaders"]),
        expose_headers: strings(&c["ExposeHeaders"]),
        max_age: c["MaxAge"].as_i64(),
        allow_credentials: c["AllowCredentials"].as_bool().unwrap_or(false),
    });
    let auth = &props["Auth"];
    let authorizer = match auth["DefaultAuthorizer"].as_str() {
        Some(name) => {
            let jwt = &auth["Authorizers"][name]["JwtConfiguration"];
            if jwt.is_null() {
                bail!("only JWT authorizers are emulated; {name} is not one");
            }
            Some(JwtAuthorizer {
                issuer: jwt["issuer"].as_str().context("JWT issuer")?.to_owned(),
                audience: strings(&jwt["audience"]),
            })
        }
        None => None,
    };
    Ok(ApiSpec { cors, authorizer })
}

fn function_spec(
    logical: &str,
    resource: &Value,
    globals: &Value,
    resolver: &Resolver,
    root: &Path,
) -> Result<FunctionSpec> {
    let props = resolver.resolve(&resource["Properties"])?;
    let get = |key: &str| props.get(key).filter(|v| !v.is_null()).or_else(|| globals.get(key));
    let code_uri = props["CodeUri"].as_str().with_context(|| format!("{logical} has no CodeUri"))?;
    let binary = match resource["Metadata"]["BuildProperties"]["Binary"].as_str() {
        Some(b) => b.to_owned(),
        None => package_name(root, code_uri)?,
    };
    let mut env = BTreeMap::new();
    for source in [&globals["Environment"]["Variables"], &props["Environment"]["Variables"]] {
        if let Some(vars) = source.as_object() {
            for (k, v) in vars {
                env.insert(k.clone(), env_string(v));
            }
        }
    }
    let mut events = Vec::new();
    if let Some(map) = props["Events"].as_object() {
        for (event_name, event) in map {
            let p = &event["Properties"];
            let source = match event["Type"].as_str() {
                Some("HttpApi") | Some("Api") => EventSource::Http {
                    method: p["Method"].as_str().unwrap_or("ANY").to_uppercase(),
                    path: p["Path"].as_str().context("HttpApi event needs Path")?.to_owned(),
                    auth: p["Auth"]["Authorizer"].as_str() != Some("NONE"),
                },
                Some("SQS") => EventSource::Sqs {
                    queue_arn: p["Queue"].as_str().context("SQS event needs Queue")?.to_owned(),
                    batch_size: p["BatchSize"].as_i64().unwrap_or(10) as i32,
                    report_failures: strings(&p["FunctionResponseTypes"])
                        .iter()
                        .any(|t| t == "ReportBatchItemFailures"),
                },
                Some("S3") => {
                    let rules = p["Filter"]["S3Key"]["Rules"].as_array().cloned().unwrap_or_default();
                    let rule = |n: &str| {
                        rules
                            .iter()
                            .find(|r| r["Name"].as_str().map(|x| x.eq_ignore_ascii_case(n)).unwrap_or(false))
                            .and_then(|r| r["Value"].as_str().map(str::to_owned))
                    };
                    EventSource::S3 {
                        bucket: p["Bucket"].as_str().context("S3 event needs Bucket")?.to_owned(),
                        events: strings(&p["Events"]),
                        prefix: rule("prefix"),
                        suffix: rule("suffix"),
                    }
                }
                Some("DynamoDB") => EventSource::Stream(stream_spec(p)?),
                Some("Schedule") | Some("ScheduleV2") => {
                    let expr = p["Schedule"].as_str().or(p["ScheduleExpression"].as_str()).unwrap_or_default();
                    match parse_rate(expr) {
                        Some(every) => EventSource::Schedule {
                            every,
                            input: p["Input"].as_str().and_then(|i| serde_json::from_str(i).ok()),
                        },
                        None => {
                            tracing::warn!(function = logical, event = %event_name, expression = expr, "schedule not emulated (only rate() is); invoke it via /_local/functions/{{name}}/invoke");
                            continue;
                        }
                    }
                }
                other => {
                    tracing::warn!(function = logical, event = %event_name, kind = ?other, "event source type not emulated");
                    continue;
                }
            };
            events.push(source);
        }
    }
    Ok(FunctionSpec {
        logical_id: logical.to_owned(),
        name: resolver.reference(logical)?.as_str().unwrap_or(logical).to_owned(),
        binary,
        handler: get("Handler").and_then(Value::as_str).unwrap_or("bootstrap").to_owned(),
        env,
        timeout: Duration::from_secs(get("Timeout").and_then(Value::as_u64).unwrap_or(3)),
        memory_mb: get("MemorySize").and_then(Value::as_u64).unwrap_or(128) as u32,
        log_level: get("LoggingConfig").and_then(|l| l["ApplicationLogLevel"].as_str()).map(str::to_owned),
        events,
    })
}

#[cfg(test)]
impl FunctionSpec {
    /// A function with nothing configured, for tests to fill in.
    pub fn test() -> Self {
        FunctionSpec {
            logical_id: "TestFunction".into(),
            name: "test".into(),
            binary: "true".into(),
            handler: "test".into(),
            env: Default::default(),
            timeout: Duration::from_secs(3),
            memory_mb: 128,
            log_level: None,
            events: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamodb_event_reads_as_lambda_would() {
        let p = serde_json::json!({"Stream": "arn:s", "StartingPosition": "TRIM_HORIZON", "BatchSize": 10,
            "BisectBatchOnFunctionError": true, "MaximumRetryAttempts": 3, "MaximumRecordAgeInSeconds": -1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "FilterCriteria": {"Filters": [{"Pattern": "{\"eventName\": [\"INSERT\"]}"}]},
            "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": "arn:q"}}});
        let s = stream_spec(&p).unwrap();
        assert_eq!((s.batch_size, s.max_retries, s.max_record_age), (10, Some(3), None));
        assert!(s.bisect_on_error && s.report_failures);
        assert_eq!(s.filters, vec![serde_json::json!({"eventName": ["INSERT"]})]);
        assert_eq!(s.on_failure.as_deref(), Some("arn:q"));
        let bad = serde_json::json!({"Stream": "arn:s", "DestinationConfig": {"OnFailure": {"Type": "SNS", "Destination": "arn:t"}}});
        assert!(stream_spec(&bad).is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("rate(5 minutes)"), Some(Duration::from_secs(300)));
        assert_eq!(parse_rate("rate(1 hour)"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_rate("cron(0 12 * * ? *)"), None);
    }
}
