"""Translates template.yaml with samtranslator (what `sam deploy` sends to CloudFormation),
offline, and writes the result for cfn-lint. cfn-lint skips dependency cycles that run
through AWS::Serverless::* resources; in the translated template they are plain resources,
so E3004 (circular dependency) and the rest of cfn-lint see them.

Usage: python scripts/check_translated.py template.yaml OUT.json
"""
import json
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicies:
    """No AWS call: the template names no AWS managed policies, only inline statements and SAM
    policy templates, which samtranslator expands itself."""

    def load(self):
        return {}


def main() -> None:
    source, out = sys.argv[1], sys.argv[2]
    with open(source) as f:
        template = yaml_parse(f.read())
    # What `sam package` does first: local code folders become S3 objects.
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str) and not props["CodeUri"].startswith("s3://"):
            props["CodeUri"] = f"s3://sam-artifacts/{props['CodeUri'].strip('/').replace('/', '-')}.zip"
    try:
        translated = transform(template, {}, OfflinePolicies())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"samtranslator: {cause.message}", file=sys.stderr)
        sys.exit(1)
    with open(out, "w") as f:
        json.dump(translated, f, indent=1, default=str)
    print(f"translated {len(translated.get('Resources', {}))} resources -> {out}")


if __name__ == "__main__":
    main()
