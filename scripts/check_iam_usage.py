"""Lists the grants of each function's role that no call of the test run needed (decision 0028).

The moto launcher (scripts/moto_iam.py) records which grant (policy, statement, action,
resource, leading-key pattern) some allowed call of a function needed; this asks it for the
others, after the integration tests and the API fuzzing ran. A role counts once across the
stacks that ran it (the shared stack and the tests' private runners of the project template).
Policies SAM adds for Lambda's own use are left out: `…EventInvokeConfigOnFailure…` lets
Lambda send a failed asynchronous event to its on-failure queue, which our code never does.
A grant listed here is unused (trim it) or needed on a path no test takes: test it, or name
it under the function's `Metadata.IamUntestedGrants` in template.yaml (`"<action> <leading-key
pattern>"` or `"<action>"` -> why it is needed), which this then reports but accepts.
Usage: check_iam_usage.py AWS_ENDPOINT STACK TEMPLATE
"""
import json
import sys
import urllib.request

from samtranslator.yaml_helper import yaml_parse


def role_of(arn: str) -> str:
    """`arn:aws:sts::1:assumed-role/<stack>-<RoleLogicalId>/<session>` -> RoleLogicalId."""
    return arn.split(":assumed-role/", 1)[1].split("/", 1)[0].rsplit("-", 1)[-1]


def main() -> int:
    endpoint, stack, template = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    with open(template) as f:
        resources = yaml_parse(f.read())["Resources"]
    untested = {
        name.removesuffix("Function") + "FunctionRole": r.get("Metadata", {}).get("IamUntestedGrants", {})
        for name, r in resources.items()
        if r.get("Type") == "AWS::Serverless::Function"
    }
    with urllib.request.urlopen(f"{endpoint}/_local_iam/unused") as response:
        report = json.load(response)
    ours = {role_of(arn) for arn in report if f":assumed-role/{stack}-" in arn}
    unused = {}  # (role, unit) -> grant, kept only while every stack running the role left it unused
    seen = {}
    for arn, grants in report.items():
        role = role_of(arn)
        if role not in ours:
            continue
        units = {
            (role, g["policy"], g["statement"], g["action"], g["resource_index"], g["leading_keys"]): g
            for g in grants
            if "EventInvokeConfig" not in g["policy"]
        }
        if role in seen:
            for unit in [u for u in unused if u[0] == role and u not in units]:
                del unused[unit]
        else:
            seen[role] = arn
            unused.update(units)
    unused_all = dict(unused)
    accepted = 0
    for unit, g in sorted(unused.items(), key=lambda kv: kv[0]):
        role = unit[0]
        name = f"{g['action']} {g['leading_keys']}" if g["leading_keys"] else g["action"]
        reason = untested.get(role, {}).get(name)
        if reason:
            print(f"{role}: {name}: untested ({reason})")
            del unused[unit]
            accepted += 1
            continue
        keys = f" on {g['leading_keys']}" if g["leading_keys"] else ""
        print(f"{role}: {g['action']} {g['resource']}{keys} ({g['policy']}, statement {g['statement']}) was never needed", file=sys.stderr)
    stale = [f"{r}: {n}" for r, names in untested.items() for n in names if r in ours and not any(
        u[0] == r and (f"{u[3]} {u[5]}" if u[5] else u[3]) == n for u in unused_all)]
    if stale:
        print("listed as untested but needed by some call now (drop them from IamUntestedGrants): " + ", ".join(stale), file=sys.stderr)
        return 1
    if unused:
        print(f"{len(unused)} grants of {len({u[0] for u in unused})} roles no call needed: trim them, or test the path that needs them", file=sys.stderr)
        return 1
    untested_note = f", but {accepted} listed as untested" if accepted else ""
    print(f"IAM: every grant of the {len(ours)} functions' roles was needed by some call{untested_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
