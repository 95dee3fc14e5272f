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

/// Renders one EMF document. Dimensions are always `function` plus `dims`; with `total` the
/// value is also published without dimensions (an empty dimension set), for one alarm over
/// every function and type.
pub fn render(name: &str, unit: Unit, value: f64, dims: &[(&str, &str)], total: bool, now_ms: i64) -> String {
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
                "Dimensions": if total { json!([dimension_names, []]) } else { json!([dimension_names]) },
                "Metrics": [{ "Name": name, "Unit": unit.as_str() }],
            }],
        }),
    );
    Value::Object(doc).to_string()
}

/// Emits one metric. Written straight to stdout as its own line, which is what the EMF
/// agent in Lambda's log pipeline parses; a tracing event would wrap it in another object.
pub fn emit(name: &str, unit: Unit, value: f64, dims: &[(&str, &str)]) {
    write_line(&render(name, unit, value, dims, false, chrono::Utc::now().timestamp_millis()));
}

/// Counts one occurrence under `function` plus `dims` and also in a total without dimensions.
pub fn count_with_total(name: &str, dims: &[(&str, &str)]) {
    write_line(&render(name, Unit::Count, 1.0, dims, true, chrono::Utc::now().timestamp_millis()));
}

fn write_line(line: &str) {
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
        let line = render("BookingsCreated", Unit::Count, 1.0, &[("mode", "instant")], false, 1_700_000_000_000);
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
        assert_eq!(cw["Dimensions"].as_array().unwrap().len(), 1, "no total unless asked for");
    }

    #[test]
    fn a_total_is_an_empty_dimension_set_beside_the_named_one() {
        let line = render("BookingMoves", Unit::Count, 1.0, &[("Type", "booking.accepted")], true, 0);
        let v: Value = serde_json::from_str(&line).unwrap();
        let sets = &v["_aws"]["CloudWatchMetrics"][0]["Dimensions"];
        assert_eq!(sets, &json!([["function", "Type"], []]));
    }
}
