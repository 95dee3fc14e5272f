"""Scans the logs a test run captured (every function's output, via the local runner) for
what must never be logged: bearer tokens (JWTs), secret values (the local dev secrets, Stripe
keys and client secrets), e-mail addresses and card numbers. Exit 1 with the offending lines.

Usage: python scripts/check_logs.py DEV_SECRETS.json LOG [LOG ...]
"""
import json
import re
import sys

PATTERNS = {
    "a JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),
    "an e-mail address": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    "a card number": re.compile(r"\b(?:4242424242424242|4000000000000341|4000000000000002)\b"),
    "a PaymentIntent client secret": re.compile(r"pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"),
    "a Stripe key": re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9_]{8,}"),
    "a webhook secret": re.compile(r"\bwhsec_[A-Za-z0-9_]{8,}"),
}


def secret_values(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from secret_values(v)
    elif isinstance(value, str) and len(value) >= 8:
        yield value


def main() -> None:
    secrets = list(secret_values(json.load(open(sys.argv[1]))))
    findings, lines = [], 0
    for path in sys.argv[2:]:
        with open(path, errors="replace") as f:
            for number, line in enumerate(f, 1):
                lines += 1
                for what, pattern in PATTERNS.items():
                    if pattern.search(line):
                        findings.append(f"{path}:{number}: {what}: {line.strip()[:200]}")
                for secret in secrets:
                    if secret in line:
                        findings.append(f"{path}:{number}: a dev secret value: {line.strip()[:200]}")
    if findings:
        print(f"log hygiene: {len(findings)} finding(s) in {lines} lines", file=sys.stderr)
        print("\n".join(findings[:50]), file=sys.stderr)
        sys.exit(1)
    print(f"log hygiene: {lines} log lines from {len(sys.argv) - 2} files, no tokens, secrets, e-mails or card data")


if __name__ == "__main__":
    main()
