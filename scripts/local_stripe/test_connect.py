"""The local Stripe's Connect emulation (connect.py) against Stripe's OpenAPI description: every
answer validates against the spec's schema, modelled parameters are the spec's, unknown ones are
refused as Stripe refuses them, idempotency keys and the onboarding page behave as Stripe's, and
events are signed for the right endpoint. Run by scripts/test:
python -m unittest scripts/local_stripe/test_connect.py"""
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema

HERE = Path(__file__).resolve().parent
SPEC = json.loads((HERE / "connect-openapi.json").read_text())
KEY = "sk_test_local_connect"
CONNECT_SECRET, PLATFORM_SECRET = "whsec_connect_test", "whsec_platform_test"
sys.path.insert(0, str(HERE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_json_schema(node):
    """OpenAPI 3.0's `nullable` in JSON Schema terms."""
    if isinstance(node, dict):
        out = {k: as_json_schema(v) for k, v in node.items() if k != "nullable"}
        if "$ref" in out:
            out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
        if node.get("nullable"):
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [as_json_schema(v) for v in node]
    return node


DEFS = as_json_schema(SPEC["components"]["schemas"])


def assert_schema(name, value):
    jsonschema.validate(value, {"$ref": f"#/$defs/{name}", "$defs": DEFS})


class Received(BaseHTTPRequestHandler):
    events = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Received.events.append((self.path, self.headers["Stripe-Signature"], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def signed_by(secret, header, body):
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


class LocalStripe(unittest.TestCase):
    """The local Stripe on a free port, with a receiver for both webhook endpoints."""
    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.proc = subprocess.Popen([sys.executable, str(HERE.parent / "localstripe_loopback.py"), str(cls.port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.hooks = ThreadingHTTPServer(("127.0.0.1", 0), Received)
        threading.Thread(target=cls.hooks.serve_forever, daemon=True).start()
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        hooks = f"http://127.0.0.1:{cls.hooks.server_address[1]}"
        cls.call("POST", "/_config/connect_webhooks/test", {"url": hooks + "/connect", "secret": CONNECT_SECRET})
        cls.call("POST", "/_config/webhooks/test", {"url": hooks + "/platform", "secret": PLATFORM_SECRET})

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait()
        cls.hooks.shutdown()

    @classmethod
    def call(cls, method, path, params=None, key=None, redirect=True):
        data = urllib.parse.urlencode(params or {}).encode() if method == "POST" else None
        if method == "GET" and params:
            path += "?" + urllib.parse.urlencode(params)
        req = urllib.request.Request(f"http://127.0.0.1:{cls.port}{path}", data=data, method=method,
                                     headers={"Authorization": f"Bearer {KEY}", **({"Idempotency-Key": key} if key else {})})
        opener = urllib.request.build_opener() if redirect else urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=5) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def api(self, method, path, params=None, key=None, status=200):
        code, headers, body = self.call(method, path, params, key)
        self.assertEqual(code, status, body)
        return json.loads(body), headers

    def event(self, endpoint, kind, object_id):
        for _ in range(50):
            for path, signature, body in Received.events:
                e = json.loads(body)
                if path == endpoint and e["type"] == kind and e["data"]["object"]["id"] == object_id:
                    return e, signature, body
            time.sleep(0.1)
        self.fail(f"no {kind} for {object_id} at {endpoint}")


class Connect(LocalStripe):
    def onboarded_account(self, email="owner@example.test"):
        account, _ = self.api("POST", "/v1/accounts", {
            "type": "express", "country": "DE", "email": email, "capabilities[transfers][requested]": "true"})
        link, _ = self.api("POST", "/v1/account_links", {
            "account": account["id"], "type": "account_onboarding",
            "refresh_url": "http://127.0.0.1:9/refresh", "return_url": "http://127.0.0.1:9/return"})
        path = urllib.parse.urlparse(link["url"]).path
        self.call("POST", path, {"outcome": "complete"}, redirect=False)
        return account["id"]

    def test_modelled_parameters_are_stripes(self):
        import connect
        for operation, names in connect.MODELLED.items():
            self.assertLessEqual(names, set(SPEC["requests"][operation]["params"]), operation)

    def test_unknown_and_missing_parameters_are_refused_as_stripe_does(self):
        body, _ = self.api("POST", "/v1/accounts", {"type": "express", "colour": "red"}, status=400)
        assert_schema("error", body)
        self.assertEqual((body["error"]["code"], body["error"]["param"]), ("parameter_unknown", "colour"))
        body, _ = self.api("POST", "/v1/transfers", {"amount": 100, "currency": "eur"}, status=400)
        self.assertEqual((body["error"]["code"], body["error"]["param"]), ("parameter_missing", "destination"))
        self.assertEqual(self.call("POST", "/v1/accounts", {"type": "express"}, key=None)[0], 200)

    def test_accounts_are_idempotent_and_onboard_through_the_link(self):
        params = {"type": "express", "country": "DE", "email": "o@example.test",
                  "capabilities[transfers][requested]": "true", "metadata[user_id]": "u-1"}
        account, _ = self.api("POST", "/v1/accounts", params, key="account-u-1")
        assert_schema("account", account)
        self.assertEqual((account["payouts_enabled"], account["capabilities"]), (False, {"transfers": "inactive"}))
        self.assertIn("external_account", account["requirements"]["currently_due"])
        again, headers = self.api("POST", "/v1/accounts", params, key="account-u-1")
        self.assertEqual((again["id"], headers.get("Idempotent-Replayed")), (account["id"], "true"))
        body, _ = self.api("POST", "/v1/accounts", {**params, "email": "x@example.test"}, key="account-u-1", status=400)
        self.assertEqual(body["error"]["type"], "idempotency_error")

        link, _ = self.api("POST", "/v1/account_links", {
            "account": account["id"], "type": "account_onboarding",
            "refresh_url": "http://127.0.0.1:9/refresh", "return_url": "http://127.0.0.1:9/return"})
        assert_schema("account_link", link)
        path = urllib.parse.urlparse(link["url"]).path
        status, _, page = self.call("GET", path)
        self.assertEqual(status, 200)
        self.assertIn(b"Complete verification", page)
        status, headers, _ = self.call("POST", path, {"outcome": "complete"}, redirect=False)
        self.assertEqual((status, headers["Location"]), (303, "http://127.0.0.1:9/return"))
        status, headers, _ = self.call("GET", path, redirect=False)
        self.assertEqual((status, headers["Location"]), (303, "http://127.0.0.1:9/refresh"), "a used link")

        event, signature, raw = self.event("/connect", "account.updated", account["id"])
        assert_schema("event", event)
        assert_schema("account", event["data"]["object"])
        self.assertEqual(event["account"], account["id"])
        self.assertTrue(signed_by(CONNECT_SECRET, signature, raw))
        self.assertFalse(signed_by(PLATFORM_SECRET, signature, raw))
        self.assertEqual(event["data"]["previous_attributes"]["payouts_enabled"], False)
        fetched, _ = self.api("GET", f"/v1/accounts/{account['id']}")
        self.assertEqual((fetched["payouts_enabled"], fetched["capabilities"]["transfers"]), (True, "active"))
        self.assertFalse(any(e[0] == "/platform" and json.loads(e[2])["type"] == "account.updated"
                             for e in Received.events), "Connect events go to Connect endpoints only")

    def paid_charge(self, amount=10000):
        intent, _ = self.api("POST", "/v1/payment_intents",
                             {"amount": amount, "currency": "eur", "transfer_group": "booking-1"})
        self.assertEqual(intent["transfer_group"], "booking-1")
        self.api("POST", f"/v1/payment_intents/{intent['id']}", {"payment_method": "pm_card_visa"})
        confirmed, _ = self.api("POST", f"/v1/payment_intents/{intent['id']}/confirm")
        self.assertEqual(confirmed["status"], "succeeded")
        return confirmed["latest_charge"]["id"] if isinstance(confirmed["latest_charge"], dict) else confirmed["latest_charge"]

    def test_transfers_and_reversals(self):
        destination = self.onboarded_account()
        charge = self.paid_charge()
        params = {"amount": 9700, "currency": "eur", "destination": destination, "source_transaction": charge,
                  "transfer_group": "booking-1", "metadata[booking_id]": "booking-1"}
        transfer, _ = self.api("POST", "/v1/transfers", params, key="transfer-booking-1")
        assert_schema("transfer", transfer)
        again, _ = self.api("POST", "/v1/transfers", params, key="transfer-booking-1")
        self.assertEqual(again["id"], transfer["id"], "the same key never transfers twice")
        body, _ = self.api("POST", "/v1/transfers", {**params, "amount": 400}, status=400)
        self.assertEqual(body["error"]["code"], "amount_too_large", "no more than the charge")
        listed, _ = self.api("GET", "/v1/transfers", {"transfer_group": "booking-1"})
        self.assertEqual([t["id"] for t in listed["data"]], [transfer["id"]])
        event, signature, raw = self.event("/platform", "transfer.created", transfer["id"])
        self.assertTrue(signed_by(PLATFORM_SECRET, signature, raw))
        self.assertNotIn("account", event, "transfers are the platform's own events")

        reversal, _ = self.api("POST", f"/v1/transfers/{transfer['id']}/reversals", {"amount": 4850}, key="rev-1")
        assert_schema("transfer_reversal", reversal)
        body, _ = self.api("POST", f"/v1/transfers/{transfer['id']}/reversals", {"amount": 4851}, status=400)
        self.assertEqual(body["error"]["code"], "amount_too_large", "never more than what is left")
        fetched, _ = self.api("GET", f"/v1/transfers/{transfer['id']}")
        assert_schema("transfer", fetched)
        self.assertEqual((fetched["amount_reversed"], fetched["reversed"]), (4850, False))
        self.event("/platform", "transfer.reversed", transfer["id"])

    def test_a_refunded_charge_funds_no_more_than_it_kept(self):
        destination = self.onboarded_account()
        charge = self.paid_charge(5000)
        self.api("POST", "/v1/refunds", {"charge": charge, "amount": 2500})
        params = {"amount": 2501, "currency": "eur", "destination": destination, "source_transaction": charge}
        body, _ = self.api("POST", "/v1/transfers", params, status=400)
        self.assertEqual(body["error"]["code"], "amount_too_large", "what a refund gave back is not there")
        kept, _ = self.api("POST", "/v1/transfers", {**params, "amount": 2500})
        self.assertEqual(kept["amount"], 2500)

    def test_a_disabled_account_cannot_receive_transfers(self):
        account, _ = self.api("POST", "/v1/accounts", {"type": "express", "country": "DE",
                                                       "capabilities[transfers][requested]": "true"})
        body, _ = self.api("POST", "/v1/transfers", {"amount": 100, "currency": "eur", "destination": account["id"]},
                           status=400)
        assert_schema("error", body)
        self.assertEqual(body["error"]["code"], "insufficient_capabilities_for_transfer")

    def test_payouts_send_connect_events(self):
        account = self.onboarded_account()
        for outcome, kind in (("paid", "payout.paid"), ("failed", "payout.failed")):
            payout, _ = self.api("POST", f"/_config/connect/accounts/{account}/payouts",
                                 {"amount": 9700, "currency": "eur", "outcome": outcome})
            assert_schema("payout", payout)
            event, signature, raw = self.event("/connect", kind, payout["id"])
            assert_schema("event", event)
            self.assertEqual((event["account"], event["data"]["object"]["status"]), (account, outcome))
            self.assertTrue(signed_by(CONNECT_SECRET, signature, raw))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


if __name__ == "__main__":
    unittest.main()
