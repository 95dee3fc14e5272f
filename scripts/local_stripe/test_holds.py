"""The local Stripe's deposit holds (holds.py) against Stripe's API reference and OpenAPI
description: cards saved during a payment and used off-session, authorizations captured in part
or cancelled, the failures Stripe's test cards cause off-session, the events each sends, and the
idempotency keys the product relies on. Run by scripts/test:
python -m unittest scripts/local_stripe/test_holds.py"""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_connect import SPEC, LocalStripe, assert_schema  # noqa: E402

PI_FIELDS = set(SPEC["components"]["schemas"]["payment_intent_fields"]["properties"])
# What shared/src/adapters/stripe.rs sends, per operation.
PRODUCT_PARAMS = {
    "POST /v1/customers": {"email", "metadata"},
    "POST /v1/payment_intents": {"amount", "currency", "customer", "setup_future_usage", "payment_method_types",
                                 "transfer_group", "metadata", "payment_method", "capture_method", "confirm",
                                 "off_session"},
    "POST /v1/payment_intents/{intent}/capture": {"amount_to_capture"},
    "POST /v1/payment_intents/{intent}/cancel": {"cancellation_reason"},
}


class Holds(LocalStripe):
    def intent(self, answer):
        """An answer's PaymentIntent, checked against the spec in the fields the product reads."""
        assert_schema("payment_intent_fields", {k: v for k, v in answer.items() if k in PI_FIELDS})
        return answer

    def customer(self):
        body, _ = self.api("POST", "/v1/customers", {"email": "renter@example.test", "metadata[user_id]": "u1"})
        assert_schema("customer_fields", body)
        return body["id"]

    def saved_card(self, customer, card="pm_card_visa"):
        """A rental paid on-session with `card`, saved for later use (Stripe.js's confirm)."""
        pi = self.intent(self.api("POST", "/v1/payment_intents", {
            "amount": 5000, "currency": "eur", "customer": customer, "setup_future_usage": "off_session",
            "payment_method_types[]": "card", "metadata[booking_id]": "b1"})[0])
        self.assertEqual(pi["setup_future_usage"], "off_session")
        self.api("POST", f"/v1/payment_intents/{pi['id']}", {"payment_method": card})
        pi = self.intent(self.api("POST", f"/v1/payment_intents/{pi['id']}/confirm")[0])
        if pi["status"] == "requires_action":
            pi = self.intent(self.api("POST", f"/v1/payment_intents/{pi['id']}/_authenticate",
                                      {"client_secret": pi["client_secret"], "success": "true"})[0])
        self.assertEqual(pi["status"], "succeeded")
        self.assertTrue(pi["payment_method"].startswith("pm_") and not pi["payment_method"].startswith("pm_card_"),
                        "a test id becomes a stored payment method, as on Stripe")
        return pi["payment_method"]

    def hold(self, customer, card, amount=2000, status=200, key=None):
        body, _ = self.api("POST", "/v1/payment_intents", {
            "amount": amount, "currency": "eur", "customer": customer, "payment_method": card,
            "capture_method": "manual", "confirm": "true", "off_session": "true",
            "metadata[booking_id]": "b1", "metadata[purpose]": "deposit"}, key=key, status=status)
        return body

    def test_the_products_parameters_are_stripes(self):
        for operation, names in PRODUCT_PARAMS.items():
            self.assertLessEqual(names, set(SPEC["requests"][operation]["params"]), operation)

    def test_a_saved_card_holds_off_session_then_captures_part(self):
        customer = self.customer()
        card = self.saved_card(customer)
        listed, _ = self.api("GET", "/v1/payment_methods", {"customer": customer, "type": "card"})
        self.assertEqual([m["id"] for m in listed["data"]], [card], "saved to the customer")
        held = self.intent(self.hold(customer, card))
        self.assertEqual((held["status"], held["amount_capturable"], held["amount_received"], held["capture_method"]),
                         ("requires_capture", 2000, 0, "manual"))
        event, _, _ = self.event("/platform", "payment_intent.amount_capturable_updated", held["id"])
        self.assertEqual(event["data"]["object"]["metadata"]["purpose"], "deposit")
        captured = self.intent(self.api("POST", f"/v1/payment_intents/{held['id']}/capture",
                                        {"amount_to_capture": 300}, key=f"capture-{held['id']}")[0])
        self.assertEqual((captured["status"], captured["amount_received"], captured["amount_capturable"]),
                         ("succeeded", 300, 0), "the rest is released")
        again, headers = self.api("POST", f"/v1/payment_intents/{held['id']}/capture", {"amount_to_capture": 300},
                                  key=f"capture-{held['id']}")
        self.assertEqual((again["id"], headers.get("Idempotent-Replayed")), (held["id"], "true"))
        body, _ = self.api("POST", f"/v1/payment_intents/{held['id']}/capture", {"amount_to_capture": 300}, status=400)
        self.assertEqual(body["error"]["code"], "payment_intent_unexpected_state", "captured once, never twice")
        self.event("/platform", "payment_intent.succeeded", held["id"])

    def test_cancelling_a_hold_tells_and_cannot_be_repeated(self):
        customer = self.customer()
        held = self.hold(customer, self.saved_card(customer))
        cancelled = self.intent(self.api("POST", f"/v1/payment_intents/{held['id']}/cancel",
                                         {"cancellation_reason": "requested_by_customer"}, key=f"release-{held['id']}")[0])
        self.assertEqual((cancelled["status"], cancelled["cancellation_reason"]), ("canceled", "requested_by_customer"))
        self.assertIsInstance(cancelled["canceled_at"], int)
        self.event("/platform", "payment_intent.canceled", held["id"])
        replay, headers = self.api("POST", f"/v1/payment_intents/{held['id']}/cancel",
                                   {"cancellation_reason": "requested_by_customer"}, key=f"release-{held['id']}")
        self.assertEqual((replay["status"], headers.get("Idempotent-Replayed")), ("canceled", "true"))
        body, _ = self.api("POST", f"/v1/payment_intents/{held['id']}/cancel", status=400)
        assert_schema("error", body)
        self.assertEqual(body["error"]["code"], "payment_intent_unexpected_state")
        body, _ = self.api("POST", f"/v1/payment_intents/{held['id']}/capture", {"amount_to_capture": 100}, status=400)
        self.assertEqual(body["error"]["code"], "payment_intent_unexpected_state", "a released hold cannot be captured")
        body, _ = self.api("POST", f"/v1/payment_intents/{held['id']}/cancel", {"cancellation_reason": "bored"},
                           status=400)
        self.assertEqual(body["error"]["param"], "cancellation_reason")

    def test_a_hold_lapses_when_told(self):
        customer = self.customer()
        held = self.hold(customer, self.saved_card(customer))
        lapsed = self.intent(self.api("POST", f"/_config/payment_intents/{held['id']}/lapse")[0])
        self.assertEqual((lapsed["status"], lapsed["cancellation_reason"]), ("canceled", "automatic"))
        event, _, _ = self.event("/platform", "payment_intent.canceled", held["id"])
        self.assertEqual(event["data"]["object"]["cancellation_reason"], "automatic")
        self.api("POST", f"/_config/payment_intents/{held['id']}/lapse", status=400)

    def test_off_session_failures_are_stripes(self):
        customer = self.customer()
        # Authenticated once on-session, yet this card asks every time: off-session it cannot.
        card = self.saved_card(customer, "pm_card_authenticationRequired")
        body = self.hold(customer, card, status=402)
        assert_schema("error", body)
        error = body["error"]
        self.assertEqual((error["type"], error["code"]), ("card_error", "authentication_required"))
        failed = self.intent(error["payment_intent"])
        self.assertEqual(failed["status"], "requires_payment_method")
        event, _, _ = self.event("/platform", "payment_intent.payment_failed", failed["id"])
        self.assertEqual(event["data"]["object"]["last_payment_error"]["code"], "authentication_required")
        # Attaches, then declines every charge.
        declining, _ = self.api("POST", "/v1/payment_methods/pm_card_chargeCustomerFail/attach", {"customer": customer})
        body = self.hold(customer, declining["id"], status=402)
        self.assertEqual((body["error"]["code"], body["error"]["decline_code"]), ("card_declined", "generic_decline"))
        self.assertEqual(self.intent(body["error"]["payment_intent"])["status"], "requires_payment_method")
        # A card that is not the customer's cannot be used off-session.
        other = self.saved_card(self.customer())
        body = self.hold(customer, other, status=400)
        self.assertEqual(body["error"]["param"], "payment_method")

    def test_idempotency_keys_answer_the_first_result(self):
        customer = self.customer()
        card = self.saved_card(customer)
        first = self.hold(customer, card, key="deposit-b1-1")
        second = self.hold(customer, card, key="deposit-b1-1")
        self.assertEqual(first["id"], second["id"], "one hold per key")
        body = self.hold(customer, card, amount=2500, key="deposit-b1-1", status=400)
        self.assertEqual(body["error"]["type"], "idempotency_error")
        # A card error is an answer the key keeps; a refused parameter is not.
        failing = self.saved_card(customer, "pm_card_authenticationRequired")
        refused = self.hold(customer, failing, key="deposit-b2-1", status=402)
        self.assertEqual(self.hold(customer, failing, key="deposit-b2-1", status=402), refused)
        self.api("POST", "/v1/customers", {"metadata[user_id]": "u3", "colour": "red"}, key="customer-u3", status=400)
        self.api("POST", "/v1/customers", {"metadata[user_id]": "u3"}, key="customer-u3")
        a, _ = self.api("POST", "/v1/customers", {"metadata[user_id]": "u2"}, key="customer-u2")
        b, _ = self.api("POST", "/v1/customers", {"metadata[user_id]": "u2"}, key="customer-u2")
        self.assertEqual(a["id"], b["id"])


if __name__ == "__main__":
    unittest.main()
