//! Business and technical metrics as CloudWatch Embedded Metric Format (EMF) lines.
//!
//! One namespace, low-cardinality dimensions (function name plus at most a type or outcome).
//! CloudWatch Logs extracts the metric from the JSON line; no API call, no latency.

use std::io::Write;

use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "RentalPortal";

#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Count,
    Milliseconds,
    Bytes,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
        }
    }
}

/// Renders one EMF document. Dimensions are always `function` plus `dims`.
pub fn render(name: &str, unit: Unit, value: f64, dims: &[(&str, &str)], now_ms: i64) -> String {
    let function = crate::telemetry::function_name();
    let mut dimension_names = vec![Value::from("function")];
    let mut doc = Map::new();
    doc.insert("function".into(), Value::from(function));
    for (k, v) in dims {
        dimension_names.push(Value::from(*k));
        doc.insert((*k).into(), Value::from(*v));
    }
    doc.insert(name.into(), json!(value));
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimension_names],
                "Metrics": [{ "Name": name, "Unit": unit.as_str() }],
            }],
        }),
    );
    Value::Object(doc).to_string()
}

/// Emits one metric. Written straight to stdout as its own line, which is what the EMF
/// agent in Lambda's log pipeline parses; a tracing event would wrap it in another object.
pub fn emit(name: &str, unit: Unit, value: f64, dims: &[(&str, &str)]) {
    let line = render(name, unit, value, dims, chrono::Utc::now().timestamp_millis());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// Shorthand for counting one occurrence of something.
pub fn count(name: &str, dims: &[(&str, &str)]) {
    emit(name, Unit::Count, 1.0, dims);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_valid_emf() {
        let line = render("BookingsCreated", Unit::Count, 1.0, &[("mode", "instant")], 1_700_000_000_000);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["BookingsCreated"], 1.0);
        assert_eq!(v["mode"], "instant");
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], NAMESPACE);
        assert_eq!(cw["Dimensions"][0], json!(["function", "mode"]));
        assert_eq!(cw["Metrics"][0]["Unit"], "Count");
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        // Every dimension named must be present as a top-level member.
        for d in cw["Dimensions"][0].as_array().unwrap() {
            assert!(v.get(d.as_str().unwrap()).is_some());
        }
    }
}
