"""Deposit holds for the local Stripe: what localstripe lacks of Stripe's PaymentIntents for
cards saved and used later off-session, and for authorizations captured later, following
Stripe's API reference (docs.stripe.com/payments/save-during-payment,
docs.stripe.com/payments/place-a-hold-on-a-payment-method) and its OpenAPI description
(payment_intent and error in connect-openapi.json; test_holds.py checks the answers):

- `setup_future_usage` on PaymentIntents: once confirmed, the card is attached to the intent's
  `customer` (Stripe's test ids such as `pm_card_visa` become a stored `pm_...`, as Stripe's do);
- `off_session=true` with `confirm=true`: the card must be the customer's; a card that always
  needs authentication (`pm_card_authenticationRequired`, 4000 0027 6000 3184) or declines
  charges (`pm_card_chargeCustomerFail`) fails with 402, the error naming `code`
  (`authentication_required`, `card_declined`) and carrying the `payment_intent`, which stays in
  `requires_payment_method` and is reported by `payment_intent.payment_failed`;
- `capture_method=manual`: an authorized intent is `requires_capture` with `amount_capturable`
  and is reported by `payment_intent.amount_capturable_updated`; capture takes
  `amount_to_capture` (the rest is released) and answers `amount_received`; capturing an
  intent that is not `requires_capture` (cancelled, lapsed, captured) is refused with
  `payment_intent_unexpected_state`, as Stripe does;
- cancelling takes `cancellation_reason`, stamps `canceled_at` and sends `payment_intent.canceled`;
- Idempotency-Key on POST /v1/customers and /v1/payment_intents[/...]: the first answer again
  for a request that ran (a success, or a card error); a refusal before running (a bad
  parameter, a wrong state) is not kept, as Stripe keeps none (keys live for the process, not
  Stripe's 24 hours);
- a local control: POST /_config/payment_intents/{id}/lapse ends an uncaptured authorization
  now, as the card network does after 5 to 7 days (`canceled`, reason `automatic`,
  `payment_intent.canceled`)."""
import json
import re
import time

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError
from localstripe.server import get_post_data
from localstripe import webhooks

PaymentIntent, PaymentMethod = resources.PaymentIntent, resources.PaymentMethod
# Stripe's test payment methods localstripe does not know (docs.stripe.com/testing).
TEST_CARDS = {"pm_card_authenticationRequired": "4000002760003184"}
ALWAYS_AUTHENTICATE = {"4000002760003184"}
CANCELLATION_REASONS = {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
IDEMPOTENT = ("/v1/customers", "/v1/payment_intents")
IDEMPOTENCY = {}
CANCEL = re.compile(r"^/v1/payment_intents/(\w+)/cancel$")
CAPTURE = re.compile(r"^/v1/payment_intents/(\w+)/capture$")


def card_error(code, message, intent, decline_code=None):
    error = {"code": code, "payment_intent": intent._export(), "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"}
    if decline_code:
        error["decline_code"] = decline_code
    exc = UserError(402, message, error)
    exc.body["error"]["type"] = "card_error"
    return exc


def stored_payment_method(id):
    """A test id (`pm_card_visa`) as Stripe treats it when used: a new, stored PaymentMethod."""
    if id in TEST_CARDS:
        return PaymentMethod(type="card", card={"number": TEST_CARDS[id], "exp_month": "12", "exp_year": "2034", "cvc": "123"})
    return PaymentMethod._api_retrieve(id)


def patch_payment_intents():
    init, create_charge, confirm = PaymentIntent.__init__, PaymentIntent._create_charge, PaymentIntent._confirm
    create, original_error = PaymentIntent._api_create.__func__, PaymentIntent.last_payment_error
    requires_auth = PaymentMethod._requires_authentication

    def __init__(self, setup_future_usage=None, **kwargs):
        if setup_future_usage not in (None, "on_session", "off_session"):
            raise UserError(400, "Invalid setup_future_usage", {"code": "parameter_invalid_string", "param": "setup_future_usage"})
        init(self, **kwargs)
        self.setup_future_usage, self.cancellation_reason, self.canceled_at = setup_future_usage, None, None
        self._off_session_error = None

    def _confirm(self, on_failure_now):
        if self.payment_method and self.payment_method.startswith("pm_card_"):
            self.payment_method = stored_payment_method(self.payment_method).id
        confirm(self, on_failure_now)

    def _create_charge(self, on_failure_now):
        create_charge(self, on_failure_now)
        charge = self.latest_charge
        if charge.status == "succeeded" and self.setup_future_usage and self.customer:
            PaymentMethod._api_retrieve(self.payment_method).customer = self.customer
        if charge.status == "succeeded" and not charge.captured:
            webhooks.schedule_webhook(resources.Event("payment_intent.amount_capturable_updated", self))

    @classmethod
    def _api_create(cls, confirm=None, off_session=None, **data):
        if str(off_session).lower() != "true":
            return create(cls, confirm=confirm, off_session=off_session, **data)
        if str(confirm).lower() != "true":
            raise UserError(400, "off_session is only allowed with confirm=true", {"code": "parameter_invalid_boolean", "param": "off_session"})
        card = stored_payment_method(data.get("payment_method") or "")
        if not data.get("customer") or card.customer != data.get("customer"):
            raise UserError(400, "The provided PaymentMethod is not attached to this customer; save it first "
                                 "(setup_future_usage) to use it off-session.",
                            {"code": "payment_method_invalid_parameter", "param": "payment_method"})
        intent = cls(**{**data, "payment_method": card.id})
        if card._card_number in ALWAYS_AUTHENTICATE:
            # Stripe cannot ask the customer: the intent waits for another payment method.
            intent.payment_method, intent._off_session_error = None, "authentication_required"
            webhooks.schedule_webhook(resources.Event("payment_intent.payment_failed", intent))
            raise card_error("authentication_required", "This payment requires authentication by the customer.", intent)
        intent._create_charge(on_failure_now=lambda: None)
        if intent.latest_charge.status == "failed":
            webhooks.schedule_webhook(resources.Event("payment_intent.payment_failed", intent))
            raise card_error("card_declined", "Your card was declined.", intent, "generic_decline")
        return intent

    def last_payment_error(self):
        if self._off_session_error:
            return {"code": self._off_session_error, "type": "card_error",
                    "message": "This payment requires authentication by the customer."}
        return original_error.fget(self)

    PaymentIntent.__init__ = __init__
    PaymentIntent._confirm = _confirm
    PaymentIntent._create_charge = _create_charge
    PaymentIntent._api_create = _api_create
    PaymentIntent.last_payment_error = property(last_payment_error)
    PaymentIntent.amount_capturable = property(lambda self: self.amount if self.status == "requires_capture" else 0)
    PaymentIntent.amount_received = property(
        lambda self: self.latest_charge.amount - self.latest_charge.amount_refunded
        if self.latest_charge is not None and self.latest_charge.captured and self.latest_charge.status == "succeeded"
        else 0)
    PaymentMethod._requires_authentication = lambda self: (
        self.type == "card" and self._card_number in ALWAYS_AUTHENTICATE) or requires_auth(self)


def canceled(intent, reason):
    intent._canceled, intent.next_action = True, None
    intent.cancellation_reason, intent.canceled_at = reason, int(time.time())
    webhooks.schedule_webhook(resources.Event("payment_intent.canceled", intent))
    return web.json_response(intent._export())


def cancel(request, params):
    """POST /v1/payment_intents/{id}/cancel as Stripe's (localstripe's takes no reason, tells nobody)."""
    intent = PaymentIntent._api_retrieve(CANCEL.match(request.path).group(1))
    reason = params.pop("cancellation_reason", None)
    if params:
        raise UserError(400, f"Received unknown parameter: {next(iter(params))}", {"code": "parameter_unknown"})
    if reason is not None and reason not in CANCELLATION_REASONS:
        raise UserError(400, "Invalid cancellation_reason", {"code": "parameter_invalid_string", "param": "cancellation_reason"})
    if intent.status not in ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action"):
        raise UserError(400, f"You cannot cancel this PaymentIntent because it has a status of {intent.status}.",
                        {"code": "payment_intent_unexpected_state"})
    return canceled(intent, reason)


async def lapse(request):
    """The card network ends an authorization nobody captured (after 5 to 7 days on Stripe)."""
    intent = PaymentIntent._api_retrieve(request.match_info["id"])
    if intent.status != "requires_capture":
        raise UserError(400, f"Only an uncaptured authorization can lapse; this one is {intent.status}.",
                        {"code": "payment_intent_unexpected_state"})
    return canceled(intent, "automatic")


def check_capturable(path):
    """Stripe captures only a `requires_capture` intent (localstripe checks just the charge)."""
    if (capture := CAPTURE.match(path)) is not None:
        intent = PaymentIntent._api_retrieve(capture.group(1))
        if intent.status != "requires_capture":
            raise UserError(400, f"This PaymentIntent could not be captured because it has a status of {intent.status}.",
                            {"code": "payment_intent_unexpected_state"})


@web.middleware
async def holds(request, handler):
    """Idempotency-Key on the routes above, and Stripe's cancel in place of localstripe's."""
    if request.method != "POST" or not request.path.startswith(IDEMPOTENT):
        return await handler(request)
    params = await get_post_data(request) or {}
    is_cancel = CANCEL.match(request.path)
    key = request.headers.get("Idempotency-Key")
    if not key:
        check_capturable(request.path)
        return cancel(request, params) if is_cancel else await handler(request)
    fingerprint = (request.path, json.dumps(params, sort_keys=True))
    if key in IDEMPOTENCY:
        seen, status, body = IDEMPOTENCY[key]
        if seen != fingerprint:
            return web.json_response({"error": {"type": "idempotency_error", "code": "idempotency_key_in_use",
                                                "message": "Keys for idempotent requests can only be used with the same "
                                                           "parameters they were first used with."}}, status=400)
        return web.Response(body=body, status=status, content_type="application/json",
                            headers={"Idempotent-Replayed": "true"})
    check_capturable(request.path)
    try:
        response = cancel(request, params) if is_cancel else await handler(request)
    except UserError as e:
        response = e.to_response()
    # Stripe keeps the first answer of a request that ran: a success or a card's refusal (402).
    if response.status < 300 or response.status == 402:
        IDEMPOTENCY[key] = (fingerprint, response.status, response.body)
    return response


def install(app):
    """After connect.install (whose PaymentIntent patch this one wraps)."""
    patch_payment_intents()
    app.middlewares.append(holds)
    app.router.add_post("/_config/payment_intents/{id}/lapse", lapse)
