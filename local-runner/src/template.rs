//! Reads template.yaml into JSON, turning CloudFormation short-form tags (`!Ref X`,
//! `!GetAtt A.B`, `!Sub ...`) into their long JSON form (`{"Ref": "X"}`, ...), so the
//! rest of the runner deals with one representation.

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use serde_norway::Value as Yaml;

pub fn load(path: &std::path::Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text)
}

pub fn parse(text: &str) -> Result<Value> {
    let yaml: Yaml = serde_norway::from_str(text).context("template.yaml is not valid YAML")?;
    to_json(yaml)
}

fn to_json(yaml: Yaml) -> Result<Value> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(f) = n.as_f64() {
                json!(f)
            } else {
                bail!("unsupported number {n:?}")
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect::<Result<_>>()?),
        Yaml::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    other => bail!("unsupported mapping key {other:?}"),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let inner = to_json(tagged.value)?;
            match tag {
                "Ref" => json!({ "Ref": inner }),
                "GetAtt" => match inner {
                    Value::String(s) => {
                        let (resource, attribute) =
                            s.split_once('.').with_context(|| format!("!GetAtt {s} needs Resource.Attribute"))?;
                        json!({ "Fn::GetAtt": [resource, attribute] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                "Condition" => json!({ "Condition": inner }),
                other => json!({ format!("Fn::{other}"): inner }),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_become_long_forms() {
        let v = parse(
            "a: !Ref X\nb: !GetAtt Q.Arn\nc: !Sub '${AWS::Region}-x'\nd: !If [C, 1, 2]\ne: !Equals [!Ref S, prod]\n",
        )
        .unwrap();
        assert_eq!(v["a"], json!({"Ref": "X"}));
        assert_eq!(v["b"], json!({"Fn::GetAtt": ["Q", "Arn"]}));
        assert_eq!(v["c"], json!({"Fn::Sub": "${AWS::Region}-x"}));
        assert_eq!(v["d"], json!({"Fn::If": ["C", 1, 2]}));
        assert_eq!(v["e"], json!({"Fn::Equals": [{"Ref": "S"}, "prod"]}));
    }

    #[test]
    fn the_project_template_parses() {
        let v = load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).unwrap();
        assert!(v["Resources"].as_object().map(|r| r.len() > 5).unwrap_or(false));
    }
}
