//! Resolves CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::If`, `Fn::Join`,
//! `Fn::Select`, `Fn::Split`, `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`) against the
//! local physical resources, as CloudFormation would against the deployed ones.

use std::collections::HashMap;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};

/// What `Ref` and `Fn::GetAtt` return for one resource.
#[derive(Debug, Clone, Default)]
pub struct Physical {
    pub reference: Value,
    pub attributes: HashMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Resolver {
    pub region: String,
    pub account: String,
    pub stack: String,
    pub parameters: HashMap<String, Value>,
    pub resources: HashMap<String, Physical>,
    pub conditions: HashMap<String, bool>,
}

impl Resolver {
    pub fn new(
        template: &Value,
        region: &str,
        account: &str,
        stack: &str,
        overrides: &HashMap<String, String>,
    ) -> Result<Self> {
        let mut parameters = HashMap::new();
        if let Some(params) = template["Parameters"].as_object() {
            for (name, spec) in params {
                let raw = match overrides.get(name) {
                    Some(v) => Value::String(v.clone()),
                    None => spec
                        .get("Default")
                        .cloned()
                        .with_context(|| format!("parameter {name} has no Default and no override"))?,
                };
                let value = if spec["Type"].as_str() == Some("CommaDelimitedList") {
                    let text = raw.as_str().map(str::to_owned).unwrap_or_else(|| raw.to_string());
                    Value::Array(text.split(',').map(|s| Value::String(s.trim().to_owned())).collect())
                } else {
                    raw
                };
                parameters.insert(name.clone(), value);
            }
        }
        let mut resolver = Resolver {
            region: region.into(),
            account: account.into(),
            stack: stack.into(),
            parameters,
            resources: HashMap::new(),
            conditions: HashMap::new(),
        };
        if let Some(conditions) = template["Conditions"].as_object() {
            // Conditions may refer to each other; evaluate until stable (they form a DAG).
            for _ in 0..conditions.len() + 1 {
                for (name, expr) in conditions {
                    if resolver.conditions.contains_key(name) {
                        continue;
                    }
                    if let Ok(v) = resolver.resolve(expr) {
                        resolver.conditions.insert(name.clone(), v.as_bool().unwrap_or(false));
                    }
                }
            }
        }
        Ok(resolver)
    }

    pub fn condition(&self, name: &str) -> Result<bool> {
        self.conditions.get(name).copied().ok_or_else(|| anyhow!("unknown condition {name}"))
    }

    fn pseudo(&self, name: &str) -> Option<Value> {
        Some(Value::String(match name {
            "AWS::Region" => self.region.clone(),
            "AWS::AccountId" => self.account.clone(),
            "AWS::StackName" => self.stack.clone(),
            "AWS::StackId" => {
                format!("arn:aws:cloudformation:{}:{}:stack/{}/local", self.region, self.account, self.stack)
            }
            "AWS::Partition" => "aws".into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            "AWS::NoValue" => return Some(Value::Null),
            _ => return None,
        }))
    }

    pub fn reference(&self, name: &str) -> Result<Value> {
        if let Some(v) = self.pseudo(name) {
            return Ok(v);
        }
        if let Some(v) = self.parameters.get(name) {
            return Ok(v.clone());
        }
        self.resources.get(name).map(|p| p.reference.clone()).ok_or_else(|| anyhow!("Ref to unknown {name}"))
    }

    pub fn attribute(&self, resource: &str, attribute: &str) -> Result<String> {
        self.resources
            .get(resource)
            .and_then(|p| p.attributes.get(attribute).cloned())
            .ok_or_else(|| anyhow!("GetAtt {resource}.{attribute} is unknown locally"))
    }

    /// Resolves every intrinsic inside `value`.
    pub fn resolve(&self, value: &Value) -> Result<Value> {
        match value {
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    let v = self.resolve(item)?;
                    if !v.is_null() || item.is_null() {
                        out.push(v);
                    }
                }
                Ok(Value::Array(out))
            }
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().map(|(k, v)| (k.as_str(), v)).unwrap_or(("", &Value::Null));
                match key {
                    "Ref" => self.reference(arg.as_str().context("Ref takes a name")?),
                    "Fn::GetAtt" => {
                        let parts = arg.as_array().context("GetAtt takes [resource, attribute]")?;
                        let resource = parts.first().and_then(Value::as_str).context("GetAtt resource")?;
                        let attribute = self.resolve(parts.get(1).context("GetAtt attribute")?)?;
                        Ok(Value::String(self.attribute(resource, attribute.as_str().context("GetAtt attribute")?)?))
                    }
                    "Fn::Sub" => self.sub(arg),
                    "Fn::If" => {
                        let parts = arg.as_array().context("If takes [condition, then, else]")?;
                        let name = parts.first().and_then(Value::as_str).context("If condition")?;
                        let branch = if self.condition(name)? { parts.get(1) } else { parts.get(2) };
                        self.resolve(branch.context("If branch")?)
                    }
                    "Fn::Equals" => {
                        let parts = self.resolve(arg)?;
                        let parts = parts.as_array().context("Equals takes two values")?;
                        Ok(Value::Bool(parts.first() == parts.get(1)))
                    }
                    "Fn::Not" => {
                        let parts = self.resolve(arg)?;
                        Ok(Value::Bool(!parts.get(0).and_then(Value::as_bool).unwrap_or(false)))
                    }
                    "Fn::And" | "Fn::Or" => {
                        let parts = self.resolve(arg)?;
                        let bools: Vec<bool> = parts
                            .as_array()
                            .context("And/Or take a list")?
                            .iter()
                            .map(|v| v.as_bool().unwrap_or(false))
                            .collect();
                        Ok(Value::Bool(if key == "Fn::And" {
                            bools.iter().all(|b| *b)
                        } else {
                            bools.iter().any(|b| *b)
                        }))
                    }
                    "Condition" => Ok(Value::Bool(self.condition(arg.as_str().context("Condition name")?)?)),
                    "Fn::Join" => {
                        let parts = self.resolve(arg)?;
                        let sep = parts.get(0).and_then(Value::as_str).context("Join separator")?.to_owned();
                        let items = parts.get(1).and_then(Value::as_array).context("Join list")?;
                        Ok(Value::String(items.iter().map(scalar_string).collect::<Vec<_>>().join(&sep)))
                    }
                    "Fn::Select" => {
                        let parts = self.resolve(arg)?;
                        let index = parts
                            .get(0)
                            .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                            .context("Select index")?;
                        parts.get(1).and_then(|l| l.get(index as usize)).cloned().context("Select out of range")
                    }
                    "Fn::Split" => {
                        let parts = self.resolve(arg)?;
                        let sep = parts.get(0).and_then(Value::as_str).context("Split separator")?;
                        let text = parts.get(1).and_then(Value::as_str).context("Split source")?;
                        Ok(Value::Array(text.split(sep).map(|s| Value::String(s.to_owned())).collect()))
                    }
                    _ => Ok(Value::Object(self.resolve_map(map)?)),
                }
            }
            Value::Object(map) => Ok(Value::Object(self.resolve_map(map)?)),
            other => Ok(other.clone()),
        }
    }

    fn resolve_map(&self, map: &Map<String, Value>) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        for (k, v) in map {
            let resolved = self.resolve(v)?;
            if !resolved.is_null() || v.is_null() {
                out.insert(k.clone(), resolved);
            }
        }
        Ok(out)
    }

    fn sub(&self, arg: &Value) -> Result<Value> {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), Map::new()),
            Value::Array(parts) => (
                parts.first().and_then(Value::as_str).context("Sub text")?,
                parts.get(1).and_then(Value::as_object).cloned().unwrap_or_default(),
            ),
            _ => bail!("Sub takes a string or [string, vars]"),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                // `${!Literal}` renders as `${Literal}`.
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = after.find('}').context("unterminated ${ in Sub")?;
            let name = &after[..end];
            let value = if let Some(v) = vars.get(name) {
                self.resolve(v)?
            } else if let Some((resource, attribute)) = name.split_once('.').filter(|_| !name.starts_with("AWS::")) {
                Value::String(self.attribute(resource, attribute)?)
            } else {
                self.reference(name)?
            };
            out.push_str(&scalar_string(&value));
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar_string).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolver() -> Resolver {
        let template = json!({
            "Parameters": {"Stage": {"Type": "String", "Default": "dev"}, "Origins": {"Type": "CommaDelimitedList", "Default": "a,b"}},
            "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]}}
        });
        let mut r = Resolver::new(&template, "eu-central-1", "123456789012", "stack", &HashMap::new()).unwrap();
        r.resources.insert(
            "Queue".into(),
            Physical {
                reference: json!("http://q/123/stack-Queue"),
                attributes: [("Arn".to_owned(), "arn:aws:sqs:eu-central-1:123:stack-Queue".to_owned())].into(),
            },
        );
        r
    }

    #[test]
    fn resolves_intrinsics() {
        let r = resolver();
        assert_eq!(r.resolve(&json!({"Ref": "Queue"})).unwrap(), json!("http://q/123/stack-Queue"));
        assert_eq!(r.resolve(&json!({"Ref": "Origins"})).unwrap(), json!(["a", "b"]));
        assert_eq!(
            r.resolve(&json!({"Fn::Sub": "${AWS::StackName}-x-${Queue.Arn}-${!Lit}"})).unwrap(),
            json!("stack-x-arn:aws:sqs:eu-central-1:123:stack-Queue-${Lit}")
        );
        assert_eq!(r.resolve(&json!({"Fn::If": ["IsProd", 90, 14]})).unwrap(), json!(14));
        assert!(r.condition("NotProd").unwrap());
        assert_eq!(r.resolve(&json!({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]})).unwrap(), json!("a-dev"));
        assert_eq!(r.resolve(&json!({"Fn::Sub": ["${X}!", {"X": {"Ref": "Stage"}}]})).unwrap(), json!("dev!"));
        assert!(r.resolve(&json!({"Ref": "Missing"})).is_err());
    }

    #[test]
    fn overrides_win_over_defaults() {
        let template = json!({"Parameters": {"Stage": {"Type": "String", "Default": "dev"}}});
        let r = Resolver::new(&template, "r", "a", "s", &[("Stage".to_owned(), "prod".to_owned())].into()).unwrap();
        assert_eq!(r.reference("Stage").unwrap(), json!("prod"));
    }
}
