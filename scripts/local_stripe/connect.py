"""Stripe Connect for the local Stripe: localstripe has none, so this adds what the product uses,
following Stripe's API reference and its OpenAPI description (connect-openapi.json, extracted
from spec3 by extract_schema.py; test_connect.py checks the answers against it):

- POST /v1/accounts, GET /v1/accounts/{id}; POST /v1/account_links, whose URL opens a local
  onboarding page (/connect/onboarding/{token}) that completes or fails verification, then
  sends `account.updated` and redirects to `return_url` (an expired or used link goes to
  `refresh_url`, as Stripe's do);
- POST/GET /v1/transfers (`source_transaction`, `transfer_group`, the `transfers` capability
  required), GET /v1/transfers/{id}, POST /v1/transfers/{id}/reversals; `transfer.created`
  and `transfer.reversed` go to the platform's endpoints, as Stripe sends them;
- `transfer_group` on PaymentIntents;
- Idempotency-Key on every POST here (same key and parameters: the first answer again; other
  parameters: 400 idempotency_error); unknown parameters: 400 parameter_unknown;
- local controls, as localstripe's /_config/webhooks: POST /_config/connect_webhooks/{id}
  (url, secret) registers a Connect endpoint; POST /_config/connect/accounts/{id}/payouts
  (amount, currency, outcome=paid|failed) makes the automatic payout Stripe would, and sends
  `payout.paid` or `payout.failed`. Connect events carry `account` and are signed with the
  Connect endpoint's secret;
- platform events (localstripe's own too) are sent to a snapshot of the registered endpoints,
  with retries (`schedule_platform_event`)."""
import asyncio
import hashlib
import hmac
import html
import json
import logging
import secrets
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from localstripe import resources, webhooks
from localstripe.server import get_post_data, unflatten_data

SPEC = json.loads(Path(__file__).with_name("connect-openapi.json").read_text())
API_VERSION = "2024-04-10"
log = logging.getLogger("local_stripe.connect")

ACCOUNTS, LINKS, TRANSFERS, PAYOUTS, IDEMPOTENCY, CONNECT_ENDPOINTS = {}, {}, {}, {}, {}, {}
# What a new individual's Express account still has to provide (Stripe's field paths).
ONBOARDING_FIELDS = [
    "business_profile.mcc", "business_profile.url", "external_account", "individual.address.city",
    "individual.address.line1", "individual.address.postal_code", "individual.dob.day", "individual.dob.month",
    "individual.dob.year", "individual.email", "individual.first_name", "individual.last_name",
    "individual.phone", "tos_acceptance.date", "tos_acceptance.ip",
]
CURRENCIES = {"US": "usd", "GB": "gbp", "CH": "chf", "SE": "sek", "DK": "dkk", "NO": "nok", "PL": "pln", "JP": "jpy"}
# Parameters of the spec's that the emulation models; the others are refused, never ignored.
MODELLED = {
    "POST /v1/accounts": {"type", "country", "email", "capabilities", "business_type", "metadata", "default_currency"},
    "POST /v1/account_links": {"account", "refresh_url", "return_url", "type", "collect"},
    "POST /v1/transfers": {"amount", "currency", "destination", "source_transaction", "transfer_group", "metadata", "description"},
    "GET /v1/transfers": {"destination", "transfer_group", "limit"},
    "POST /v1/transfers/{id}/reversals": {"amount", "metadata", "description"},
}


class StripeError(Exception):
    def __init__(self, status, code, message, param=None, kind="invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "code": code, "message": message,
                               "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"}}
        if param:
            self.body["error"]["param"] = param


def new_id(prefix):
    return prefix + secrets.token_hex(12)


def check_params(operation, params):
    spec = SPEC["requests"][operation]
    for name in params:
        if name not in spec["params"]:
            raise StripeError(400, "parameter_unknown", f"Received unknown parameter: {name}", name)
        if name not in MODELLED[operation]:
            raise StripeError(400, "parameter_unknown", f"The local Stripe does not emulate {name} here", name)
    for name in spec["required"]:
        if params.get(name) in (None, ""):
            raise StripeError(400, "parameter_missing", f"Missing required param: {name}.", name)


def amount_param(params, name="amount", required=True):
    raw = params.get(name)
    if raw is None and not required:
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise StripeError(400, "parameter_invalid_integer", f"Invalid integer: {raw}", name)
    if value <= 0:
        raise StripeError(400, "parameter_invalid_integer", "This value must be greater than or equal to 1.", name)
    return value


def api(operation, idempotent=True):
    """An API route: parameters checked against the spec, Idempotency-Key honoured, Stripe's
    error shape."""
    def wrap(handler):
        async def route(request):
            try:
                if request.method == "POST":
                    params = await get_post_data(request) or {}
                else:
                    params = unflatten_data(request.query) or {}
                check_params(operation, params)
                key = request.headers.get("Idempotency-Key") if idempotent and request.method == "POST" else None
                if key:
                    fingerprint = (request.path, json.dumps(params, sort_keys=True))
                    if key in IDEMPOTENCY:
                        seen, status, body = IDEMPOTENCY[key]
                        if seen != fingerprint:
                            raise StripeError(400, "idempotency_key_in_use",
                                              "Keys for idempotent requests can only be used with the same parameters "
                                              "they were first used with.", kind="idempotency_error")
                        return web.json_response(body, status=status, headers={"Idempotent-Replayed": "true"})
                body = handler(request, params)
                if key:
                    IDEMPOTENCY[key] = (fingerprint, 200, body)
                return web.json_response(body)
            except StripeError as e:
                return web.json_response(e.body, status=e.status)
        return route
    return wrap


# --- accounts and onboarding -------------------------------------------------------------

def requirements(due, disabled_reason, errors=()):
    return {"alternatives": [], "current_deadline": None, "currently_due": list(due), "disabled_reason": disabled_reason,
            "errors": list(errors), "eventually_due": list(due), "past_due": list(due), "pending_verification": []}


@api("POST /v1/accounts")
def create_account(request, p):
    kind = p.get("type", "express")
    if kind not in ("express", "custom", "standard"):
        raise StripeError(400, "parameter_invalid_string", "Invalid type", "type")
    country = (p.get("country") or "US").upper()
    capabilities = {name: "inactive" for name, want in (p.get("capabilities") or {}).items()
                    if str((want or {}).get("requested")).lower() == "true"}
    account = {
        "id": new_id("acct_"), "object": "account", "type": kind, "country": country, "email": p.get("email"),
        "business_type": p.get("business_type"), "capabilities": capabilities, "charges_enabled": False,
        "payouts_enabled": False, "details_submitted": False, "created": int(time.time()),
        "default_currency": p.get("default_currency") or CURRENCIES.get(country, "eur"), "metadata": p.get("metadata") or {},
        "requirements": requirements(ONBOARDING_FIELDS, "requirements.past_due"),
        "future_requirements": requirements([], None),
        "external_accounts": {"object": "list", "data": [], "has_more": False, "url": ""},
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "controller": {"type": "application", "is_controller": True},
    }
    account["external_accounts"]["url"] = f"/v1/accounts/{account['id']}/external_accounts"
    ACCOUNTS[account["id"]] = account
    return account


def missing(kind, id, param):
    """Stripe's 404 for an object that does not exist."""
    return StripeError(404, "resource_missing", f"No such {kind}: '{id}'", param)


async def get_account(request):
    account = ACCOUNTS.get(request.match_info["id"])
    if account is None:
        return web.json_response(missing("account", request.match_info["id"], "account").body, status=404)
    return web.json_response(account)


@api("POST /v1/account_links")
def create_account_link(request, p):
    if p["account"] not in ACCOUNTS:
        raise StripeError(400, "account_invalid", "The provided key does not have access to account "
                          f"'{p['account']}' (or that account does not exist).", "account")
    if p["type"] not in ("account_onboarding", "account_update"):
        raise StripeError(400, "parameter_invalid_string", "Invalid type", "type")
    for name in ("refresh_url", "return_url"):
        if not str(p.get(name) or "").startswith("http"):
            raise StripeError(400, "url_invalid", "Not a valid URL", name)
    token = secrets.token_urlsafe(16)
    created = int(time.time())
    LINKS[token] = {"account": p["account"], "refresh_url": p["refresh_url"], "return_url": p["return_url"],
                    "expires_at": created + 300, "used": False}
    return {"object": "account_link", "created": created, "expires_at": created + 300,
            "url": f"http://{request.host}/connect/onboarding/{token}"}


PAGE = """<!doctype html><meta charset="utf-8"><title>Local Stripe: onboarding</title>
<h1>Payout account {account}</h1><p>The local Stripe's stand-in for Stripe-hosted onboarding.</p>
<form method="post"><button name="outcome" value="complete">Complete verification</button>
<button name="outcome" value="fail">Fail verification</button></form>"""


async def onboarding_page(request):
    link = LINKS.get(request.match_info["token"])
    if link is None:
        raise web.HTTPNotFound(text="no such account link")
    if link["used"] or link["expires_at"] < time.time():
        raise web.HTTPSeeOther(link["refresh_url"])
    if request.method == "GET":
        return web.Response(text=PAGE.format(account=html.escape(link["account"])), content_type="text/html")
    outcome = (await request.post()).get("outcome")
    if outcome not in ("complete", "fail"):
        raise web.HTTPBadRequest(text="outcome must be complete or fail")
    link["used"] = True
    set_verification(link["account"], outcome == "complete")
    raise web.HTTPSeeOther(link["return_url"])


def set_verification(account_id, verified):
    """Verification passed (everything enabled) or failed (transfers and payouts disabled);
    sends account.updated with the attributes that changed."""
    account = ACCOUNTS[account_id]
    before = {k: json.loads(json.dumps(account[k])) for k in
              ("capabilities", "charges_enabled", "payouts_enabled", "details_submitted", "requirements")}
    account["details_submitted"] = True
    account["charges_enabled"] = account["payouts_enabled"] = verified
    account["capabilities"] = {name: "active" if verified else "inactive" for name in account["capabilities"]}
    document = "individual.verification.document"
    account["requirements"] = requirements([], None) if verified else requirements(
        [document], "requirements.past_due",
        [{"code": "verification_failed_other", "reason": "The document could not be verified.", "requirement": document}])
    previous = {k: v for k, v in before.items() if account[k] != v}
    send_connect_event("account.updated", account, account_id, previous)


# --- transfers and reversals -------------------------------------------------------------

@api("POST /v1/transfers")
def create_transfer(request, p):
    amount = amount_param(p)
    currency = str(p["currency"]).lower()
    destination = ACCOUNTS.get(p["destination"])
    if destination is None:
        raise StripeError(400, "resource_missing", f"No such destination: '{p['destination']}'", "destination")
    if destination["capabilities"].get("transfers") != "active":
        raise StripeError(400, "insufficient_capabilities_for_transfer",
                          "Your destination account needs to have at least one of the following capabilities "
                          "enabled: transfers, crypto_transfers, legacy_payments", "destination")
    source = p.get("source_transaction")
    if source is not None:
        charge = resources.store.get("charge:" + source)
        if charge is None:
            raise StripeError(400, "resource_missing", f"No such charge: '{source}'", "source_transaction")
        if charge.status != "succeeded" or charge.currency.lower() != currency:
            raise StripeError(400, "transfer_source_balance_parameters_mismatch",
                              "The source transaction must be a succeeded charge in the transfer's currency.",
                              "source_transaction")
        # What the charge holds: a partial capture (our deposits) or a refund leaves less than its amount.
        available = charge.amount - (getattr(charge, "amount_refunded", 0) or 0)
        already = sum(t["amount"] for t in TRANSFERS.values() if t["source_transaction"] == source)
        if already + amount > available:
            raise StripeError(400, "amount_too_large", "Transfers from this charge would exceed its amount.", "amount")
    transfer = {
        "id": new_id("tr_"), "object": "transfer", "amount": amount, "amount_reversed": 0, "currency": currency,
        "balance_transaction": new_id("txn_"), "created": int(time.time()), "description": p.get("description"),
        "destination": destination["id"], "destination_payment": new_id("py_"), "livemode": False,
        "metadata": p.get("metadata") or {}, "reversed": False, "source_transaction": source,
        "source_type": "card", "transfer_group": p.get("transfer_group"),
    }
    transfer["reversals"] = {"object": "list", "data": [], "has_more": False, "total_count": 0,
                             "url": f"/v1/transfers/{transfer['id']}/reversals"}
    TRANSFERS[transfer["id"]] = transfer
    send_platform_event("transfer.created", transfer)
    return transfer


@api("GET /v1/transfers", idempotent=False)
def list_transfers(request, p):
    found = [t for t in TRANSFERS.values()
             if p.get("transfer_group") in (None, t["transfer_group"]) and p.get("destination") in (None, t["destination"])]
    found.sort(key=lambda t: t["created"], reverse=True)
    limit = int(p.get("limit") or 10)
    return {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": "/v1/transfers"}


async def get_transfer(request):
    transfer = TRANSFERS.get(request.match_info["id"])
    if transfer is None:
        return web.json_response(missing("transfer", request.match_info["id"], "id").body, status=404)
    return web.json_response(transfer)


@api("POST /v1/transfers/{id}/reversals")
def create_reversal(request, p):
    transfer = TRANSFERS.get(request.match_info["id"])
    if transfer is None:
        raise missing("transfer", request.match_info["id"], "id")
    remaining = transfer["amount"] - transfer["amount_reversed"]
    amount = amount_param(p, required=False) or remaining
    if amount > remaining:
        raise StripeError(400, "amount_too_large", f"Reversal amount exceeds the transfer's remaining {remaining}.", "amount")
    reversal = {
        "id": new_id("trr_"), "object": "transfer_reversal", "amount": amount, "currency": transfer["currency"],
        "balance_transaction": new_id("txn_"), "created": int(time.time()), "destination_payment_refund": new_id("pyr_"),
        "metadata": p.get("metadata") or {}, "source_refund": None, "transfer": transfer["id"],
    }
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
    transfer["reversals"]["data"].insert(0, reversal)
    transfer["reversals"]["total_count"] += 1
    send_platform_event("transfer.reversed", transfer)
    return reversal


# --- local controls: Connect endpoints and payouts ---------------------------------------

async def config_connect_webhook(request):
    data = await get_post_data(request) or {}
    if not str(data.get("url", "")).startswith("http") or not data.get("secret"):
        raise web.HTTPBadRequest(text="url and secret are required")
    CONNECT_ENDPOINTS[request.match_info["id"]] = (data["url"], data["secret"])
    return web.Response()


async def make_payout(request):
    account = ACCOUNTS.get(request.match_info["id"])
    data = await get_post_data(request) or {}
    if account is None or data.get("outcome") not in ("paid", "failed"):
        raise web.HTTPBadRequest(text="an existing account and outcome=paid|failed are required")
    failed = data["outcome"] == "failed"
    now = int(time.time())
    payout = {
        "id": new_id("po_"), "object": "payout", "amount": amount_param(data), "arrival_date": now + 2 * 86400,
        "automatic": True, "balance_transaction": new_id("txn_"), "created": now,
        "currency": str(data.get("currency") or account["default_currency"]).lower(), "description": "STRIPE PAYOUT",
        "destination": new_id("ba_"), "failure_balance_transaction": new_id("txn_") if failed else None,
        "failure_code": "account_closed" if failed else None,
        "failure_message": "The bank account has been closed." if failed else None, "livemode": False,
        "metadata": {}, "method": "standard", "original_payout": None, "reconciliation_status": "completed",
        "reversed_by": None, "source_type": "card", "statement_descriptor": None,
        "status": "failed" if failed else "paid", "type": "bank_account", "application_fee": None,
        "application_fee_amount": None,
    }
    PAYOUTS[payout["id"]] = payout
    send_connect_event("payout.failed" if failed else "payout.paid", payout, account["id"])
    return web.json_response(payout)


# --- events --------------------------------------------------------------------------------

def event(kind, obj, account=None, previous=None):
    e = {"id": new_id("evt_"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
         "data": {"object": json.loads(json.dumps(obj))}, "livemode": False, "pending_webhooks": 1,
         "request": {"id": None, "idempotency_key": None}, "type": kind}
    if previous:
        e["data"]["previous_attributes"] = previous
    if account:
        e["account"] = account
    return e


class _PlatformEvent:
    """What localstripe's webhook sender needs of an event: it signs and sends these to the
    platform's endpoints like its own."""
    def __init__(self, body):
        self.body, self.type, self.created = body, body["type"], body["created"]

    def _export(self):
        return self.body


def send_platform_event(kind, obj):
    webhooks.schedule_webhook(_PlatformEvent(event(kind, obj)))


def schedule_platform_event(evt):
    """Sends a platform event to every registered endpoint, signed with its secret, as
    localstripe's sender does, but over a copy of the endpoints taken now: its own sender walks
    the live registry across awaits, so an endpoint registered meanwhile (a test's stack
    starting) aborts the delivery to every endpoint after it. Failed deliveries are retried
    (`deliver`)."""
    body = evt._export()
    for hook in list(webhooks._webhooks.values()):
        if hook.events is None or evt.type in hook.events:
            asyncio.ensure_future(deliver(hook.url, hook.secret, body))


def send_connect_event(kind, obj, account, previous=None):
    body = event(kind, obj, account, previous)
    for url, secret in CONNECT_ENDPOINTS.values():
        asyncio.ensure_future(deliver(url, secret, body))


async def deliver(url, secret, body):
    """Signs as Stripe does (HMAC-SHA256 of "{t}.{payload}") and retries a failed delivery a
    few times, a second apart (Stripe retries for days)."""
    payload = json.dumps(body).encode()
    for attempt in range(4):
        await asyncio.sleep(0.2 if attempt == 0 else 1)
        t = int(time.time())
        signature = hmac.new(secret.encode(), b"%d.%s" % (t, payload), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={t},v1={signature}"}
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(url, data=payload, headers=headers) as r:
                    if 200 <= r.status < 300:
                        return
                    log.warning("Connect event %s to %s: HTTP %d", body["type"], url, r.status)
        except aiohttp.ClientError as e:
            log.warning("Connect event %s to %s: %s", body["type"], url, e)


# --- installation --------------------------------------------------------------------------

def allow_transfer_group_on_payment_intents():
    original = resources.PaymentIntent.__init__

    def init(self, transfer_group=None, **kwargs):
        original(self, **kwargs)
        self.transfer_group = transfer_group

    resources.PaymentIntent.__init__ = init


@web.middleware
async def onboarding_pages(request, handler):
    """The onboarding page is opened by a person, without an API key: served before
    localstripe's authentication."""
    if request.path.startswith("/connect/onboarding/"):
        return await onboarding_page(request)
    return await handler(request)


def install(app):
    allow_transfer_group_on_payment_intents()
    webhooks.schedule_webhook = resources.schedule_webhook = schedule_platform_event
    app.middlewares.insert(0, onboarding_pages)
    app.router.add_post("/v1/accounts", create_account)
    app.router.add_get("/v1/accounts/{id}", get_account)
    app.router.add_post("/v1/account_links", create_account_link)
    app.router.add_post("/v1/transfers", create_transfer)
    app.router.add_get("/v1/transfers", list_transfers)
    app.router.add_get("/v1/transfers/{id}", get_transfer)
    app.router.add_post("/v1/transfers/{id}/reversals", create_reversal)
    app.router.add_post("/_config/connect_webhooks/{id}", config_connect_webhook)
    app.router.add_post("/_config/connect/accounts/{id}/payouts", make_payout)
    for path in ("/connect/onboarding/{token}",):
        app.router.add_route("*", path, onboarding_page)
