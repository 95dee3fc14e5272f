"""Checks, on the SAM-translated template, that failures and alarms can reach where they are sent:

  - every queue an EventBridge rule names as its dead-letter queue has a queue policy that lets
    events.amazonaws.com send to it (SAM writes one only for a queue it creates itself);
  - every SNS topic an alarm notifies is unencrypted or encrypted with a key of the template
    whose key policy lets cloudwatch.amazonaws.com use it (an AWS-managed key such as
    alias/aws/sns cannot, so its notifications would be dropped);
  - every alarm on one of our metrics (namespace RentalPortal) names a metric and a dimension
    set that some code path emits (read from the `shared::metrics` calls in the Rust sources):
    CloudWatch keeps each dimension set as a metric of its own, so any other alarm never fires.

Usage: check_alarms_and_dlqs.py TRANSLATED_TEMPLATE_JSON ROOT
"""

import json
import pathlib
import re
import sys

NAMESPACE = "RentalPortal"
METRIC_CALL = re.compile(r"metrics::(count|emit|count_with_total)\(\s*\"(\w+)\"(.*?)\);", re.S)
DIMENSION_KEY = re.compile(r"\(\s*\"(\w+)\"\s*,")


def emitted_dimension_sets(root):
    """Metric name -> the dimension sets (frozensets of names) the code publishes it under."""
    emitted = {}
    for path in list(root.glob("shared/src/**/*.rs")) + list(root.glob("functions/*/src/**/*.rs")):
        for kind, name, args in METRIC_CALL.findall(path.read_text(encoding="utf-8")):
            keys = frozenset(["function", *DIMENSION_KEY.findall(args)])
            sets = emitted.setdefault(name, set())
            sets.add(keys)
            if kind == "count_with_total":
                sets.add(frozenset())
    return emitted


def logical_of(value):
    """The logical id a Ref / GetAtt points at, or None for anything else."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else target.split(".")[0]
    return None


def as_list(value):
    return value if isinstance(value, list) else [value]


def statements(document):
    return as_list((document or {}).get("Statement", []))


def allows(statement, service, action_prefix):
    principal = statement.get("Principal", {})
    services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
    actions = as_list(statement.get("Action", []))
    return (
        statement.get("Effect") == "Allow"
        and service in services
        and any(a == "*" or a.startswith(action_prefix) or a == action_prefix.split(":")[0] + ":*" for a in actions)
    )


def main(path, root):
    resources = json.load(open(path))["Resources"]
    problems = []

    emitted = emitted_dimension_sets(pathlib.Path(root))
    for name, res in resources.items():
        props = res["Properties"]
        if res["Type"] != "AWS::CloudWatch::Alarm" or props.get("Namespace") != NAMESPACE:
            continue
        metric = props.get("MetricName")
        dims = frozenset(d["Name"] for d in props.get("Dimensions", []))
        if metric not in emitted:
            problems.append(f"{name}: no code emits {NAMESPACE}/{metric}")
        elif dims not in emitted[metric]:
            sets = sorted(sorted(s) for s in emitted[metric])
            problems.append(f"{name}: watches {metric} by {sorted(dims)}, but the code emits it by {sets}")

    # Queues EventBridge may send to, by their policies.
    events_may_send = set()
    for res in resources.values():
        if res["Type"] == "AWS::SQS::QueuePolicy":
            props = res["Properties"]
            if any(allows(s, "events.amazonaws.com", "sqs:SendMessage") for s in statements(props["PolicyDocument"])):
                events_may_send.update(filter(None, (logical_of(q) for q in props["Queues"])))
    for name, res in resources.items():
        if res["Type"] != "AWS::Events::Rule":
            continue
        for target in res["Properties"].get("Targets", []):
            dlq = logical_of((target.get("DeadLetterConfig") or {}).get("Arn"))
            if dlq and dlq not in events_may_send:
                problems.append(f"{name}: its dead-letter queue {dlq} has no policy letting events.amazonaws.com send")

    # Topics alarms notify, and the keys that encrypt them.
    for name, res in resources.items():
        if res["Type"] != "AWS::CloudWatch::Alarm":
            continue
        for action in res["Properties"].get("AlarmActions", []):
            topic = logical_of(action)
            if topic is None or resources.get(topic, {}).get("Type") != "AWS::SNS::Topic":
                continue
            key_ref = resources[topic]["Properties"].get("KmsMasterKeyId")
            if key_ref is None:
                continue
            key = logical_of(key_ref)
            if key is None or resources.get(key, {}).get("Type") != "AWS::KMS::Key":
                problems.append(f"{name}: topic {topic} is encrypted with {key_ref!r}, not a key whose policy this template sets")
                continue
            policy = resources[key]["Properties"]["KeyPolicy"]
            needed = ("kms:GenerateDataKey", "kms:Decrypt")
            granted = [a for a in needed if any(allows(s, "cloudwatch.amazonaws.com", a) for s in statements(policy))]
            if len(granted) != len(needed):
                problems.append(f"{name}: key {key} of topic {topic} does not let cloudwatch.amazonaws.com {' and '.join(needed)}")

    for p in sorted(set(problems)):
        print(p, file=sys.stderr)
    if problems:
        return 1
    print("alarms and DLQs: schedule DLQs accept EventBridge, alarm topics' keys accept CloudWatch, "
          f"alarms watch metrics the code emits ({len(emitted)} metrics found)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
