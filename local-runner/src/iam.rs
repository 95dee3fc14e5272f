//! Each function's role, for the moto launcher to enforce (scripts/moto_iam.py, decision 0028):
//! its policies as SAM translates them, resolved against the local resources, under an access
//! key of the function's own.

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};

use crate::model::FunctionSpec;
use crate::resolve::Resolver;

/// The temporary access key a function of `stack` runs with (`ASIA`, as Lambda's role
/// credentials): the launcher knows the function's role by it. Stacks sharing one moto differ.
pub fn access_key_id(stack: &str, logical_id: &str) -> String {
    // FNV-1a: stable across runs and platforms.
    let bytes = stack.bytes().chain([b'/']).chain(logical_id.bytes());
    let hash = bytes.fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("ASIA{hash:016X}")
}

/// access key id -> `{arn, policies, managed_policy_arns}` for every function, from the
/// SAM-translated template: the role its `Role` names, inline policies and managed ARNs.
pub fn principals(translated: &Value, resolver: &Resolver, functions: &[FunctionSpec]) -> Result<Value> {
    let resources = &translated["Resources"];
    let mut out = Map::new();
    for function in functions {
        let logical = &function.logical_id;
        let role_ref = &resources[logical]["Properties"]["Role"];
        let Some(role_logical) = role_ref["Fn::GetAtt"][0].as_str() else {
            bail!("{logical}: its Role is not a role of the template ({role_ref}); the local IAM check needs one");
        };
        let role = resolver.resolve(&resources[role_logical]["Properties"])?;
        // `{PolicyName, PolicyDocument}` each: the launcher reports unused grants by policy.
        let policies = role["Policies"].clone();
        let managed = role["ManagedPolicyArns"].clone();
        let arn = format!(
            "arn:aws:sts::{}:assumed-role/{}-{role_logical}/{}",
            resolver.account, resolver.stack, function.name
        );
        let spec = json!({ "arn": arn, "policies": policies, "managed_policy_arns": managed });
        out.insert(access_key_id(&resolver.stack, logical), spec);
    }
    Ok(Value::Object(out))
}

/// Hands the principals to the launcher; a plain moto (no launcher) fails here, loudly.
pub async fn register(aws_endpoint: &str, principals: &Value) -> Result<()> {
    let url = format!("{}/_local_iam/principals", aws_endpoint.trim_end_matches('/'));
    let request = http::Request::post(&url)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(principals.to_string())))?;
    let client = shared::adapters::http_client::LazyClient::new(std::time::Duration::from_secs(10));
    let response = client.send(request).await.with_context(|| format!("registering the functions' roles at {url}"))?;
    if response.status != http::StatusCode::NO_CONTENT {
        let body = String::from_utf8_lossy(&response.body);
        bail!("{url} answered {}: {body} (is moto started by scripts/moto_serialized.py?)", response.status);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_keys_are_temporary_ones_and_differ_per_function() {
        let a = access_key_id("dev", "GetMeFunction");
        assert!(a.starts_with("ASIA") && a.len() == 20, "{a}");
        assert_eq!(a, access_key_id("dev", "GetMeFunction"));
        assert_ne!(a, access_key_id("dev", "UpdateMeFunction"));
        assert_ne!(a, access_key_id("test", "GetMeFunction"));
    }

    #[test]
    fn the_project_roles_resolve_for_every_function() {
        // The translated template is made by scripts/check_translated.py; here a hand-made one
        // with the shapes SAM writes: a role per function, a policy template expanded with Sub.
        let translated = json!({"Resources": {
            "GetMeFunction": {"Properties": {"Role": {"Fn::GetAtt": ["GetMeFunctionRole", "Arn"]}}},
            "GetMeFunctionRole": {"Properties": {
                "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}],
                "Policies": [{"PolicyName": "p0", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
                    "Resource": {"Fn::Sub": ["arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${q}", {"q": "events"}]}}]}}]
            }}
        }});
        let resolver = Resolver::new(&json!({}), "eu-central-1", "123456789012", "s", &Default::default()).unwrap();
        let function =
            FunctionSpec { logical_id: "GetMeFunction".into(), name: "s-GetMeFunction".into(), ..FunctionSpec::test() };
        let principals = principals(&translated, &resolver, &[function]).unwrap();
        let spec = &principals[access_key_id("s", "GetMeFunction")];
        assert_eq!(spec["arn"], "arn:aws:sts::123456789012:assumed-role/s-GetMeFunctionRole/s-GetMeFunction");
        assert_eq!(spec["policies"][0]["PolicyName"], "p0");
        assert_eq!(
            spec["policies"][0]["PolicyDocument"]["Statement"][0]["Resource"],
            "arn:aws:sqs:eu-central-1:123456789012:events"
        );
        assert_eq!(spec["managed_policy_arns"][0], "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole");
    }
}
