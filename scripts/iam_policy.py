"""IAM policy evaluation for the local stack (scripts/moto_iam.py, decision 0028): whether
identity-policy statements allow one (action, resource, context) check, as IAM decides it,
and which of their grants a check needed."""
import re
from dataclasses import dataclass, field


class NotModelled(Exception):
    """A request or policy this evaluator cannot judge: refused, with the reason."""


@dataclass
class Check:
    action: str  # service:Action
    resource: str  # ARN
    context: dict = field(default_factory=dict)  # condition key (lower case) -> list of strings


def as_list(value):
    return value if isinstance(value, list) else [value]


def glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _string_test(base: str):
    """(policy value, request value) -> bool for a base operator, and whether it negates."""
    tests = {
        "StringEquals": (lambda p, v: p == v, False),
        "StringNotEquals": (lambda p, v: p == v, True),
        "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
        "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
        "StringLike": (lambda p, v: glob(p, v), False),
        "StringNotLike": (lambda p, v: glob(p, v), True),
        "ArnEquals": (lambda p, v: p == v, False),
        "ArnNotEquals": (lambda p, v: p == v, True),
        "ArnLike": (lambda p, v: glob(p, v), False),
        "ArnNotLike": (lambda p, v: glob(p, v), True),
        "Bool": (lambda p, v: p.lower() == v.lower(), False),
    }
    if base not in tests:
        raise NotModelled(f"condition operator {base}")
    return tests[base]


# The condition keys the request readers (moto_iam.py) fill in; a condition on any other key is
# refused, not taken as absent (which would let IfExists and negated operators pass).
FILLED_KEYS = {"dynamodb:leadingkeys", "s3:prefix"}


def _condition_holds(operator: str, key: str, policy_values, context: dict) -> bool:
    if key.lower() not in FILLED_KEYS:
        raise NotModelled(f"condition key {key}")
    if any("${" in str(p) for p in as_list(policy_values)):
        raise NotModelled(f"policy variables in {key}")
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    values = context.get(key.lower())
    policy_values = [str(p).lower() if isinstance(p, bool) else str(p) for p in as_list(policy_values)]
    if base == "Null":  # "true": the key must be absent
        return (values is None) == (policy_values[0].lower() == "true")
    test, negated = _string_test(base)

    def matches(value):
        return any(test(p, value) for p in policy_values)

    if qualifier == "ForAllValues":
        # True for an absent or empty key, as in IAM: every value present must match.
        return all((not matches(v)) if negated else matches(v) for v in values or [])
    if qualifier == "ForAnyValue":
        return any((not matches(v)) if negated else matches(v) for v in values or [])
    if qualifier:
        raise NotModelled(f"condition qualifier {qualifier}")
    if values is None:
        return if_exists or negated
    if negated:
        return not any(matches(v) for v in values)
    return any(matches(v) for v in values)


def statement_applies(statement: dict, check: Check) -> bool:
    if "Action" in statement:
        if not any(glob(a, check.action, ignore_case=True) for a in as_list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(glob(a, check.action, ignore_case=True) for a in as_list(statement["NotAction"])):
            return False
    else:
        raise NotModelled("a statement with neither Action nor NotAction")
    if "Resource" in statement:
        if not any(glob(r, check.resource) for r in as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(glob(r, check.resource) for r in as_list(statement["NotResource"])):
            return False
    else:
        raise NotModelled("an identity statement with neither Resource nor NotResource")
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, policy_values in keys.items():
            if not _condition_holds(operator, key, policy_values, check.context):
                return False
    return True


def evaluate(statements: list, check: Check) -> tuple[bool, str]:
    """(allowed, why) for one check against identity-policy statements: an explicit Deny
    wins, then any Allow; otherwise the implicit deny."""
    allowed = False
    for statement in statements:
        if not statement_applies(statement, check):
            continue
        if statement.get("Effect") == "Deny":
            return False, "an identity-based policy explicitly denies it"
        if statement.get("Effect") == "Allow":
            allowed = True
    return (True, "") if allowed else (False, f"no identity-based policy allows the {check.action} action")


def grant_units(statement: dict) -> list:
    """An Allow statement's grants one by one: (action, resource, leading-key pattern or None)."""
    if statement.get("Effect") != "Allow" or "Action" not in statement or "Resource" not in statement:
        return []
    patterns = None
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, values in keys.items():
            if key.lower() == "dynamodb:leadingkeys":
                patterns = as_list(values)
    return [(a, r, p) for a in as_list(statement["Action"]) for r in as_list(statement["Resource"]) for p in patterns or [None]]


def units_used(statement: dict, check: Check) -> list:
    """The grant units of `statement` that `check` needed (the statement applies to it)."""
    keys = check.context.get("dynamodb:leadingkeys", [])
    return [
        (a, r, p)
        for a, r, p in grant_units(statement)
        if glob(a, check.action, ignore_case=True) and glob(r, check.resource) and (p is None or any(glob(p, k) for k in keys))
    ]
