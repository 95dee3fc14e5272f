"""Makes a user an owner who may publish, as a person would in a browser: opens their payout
account (POST /me/payout-account), submits the local Stripe's onboarding page ("Complete
verification"), and waits until Stripe's account.updated has reached their profile.

    python3 scripts/onboard_owner.py API_URL TOKEN      (or import onboard)
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # Stripe sends the owner back to the frontend's return URL: not followed here


def _call(method, url, token, body=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method,
                                 headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def onboard(api, token, country="DE", timeout=30, pump=None):
    """The account's id once it can receive transfers. `pump`, when given, is called while
    waiting: where no event sources run (scripts/bench), it hands the queued Connect event to
    its consumer."""
    status, account = _call("GET", f"{api}/me/payout-account", token)
    if status == 200 and account.get("can_receive_transfers"):
        return account["id"]
    status, opened = _call("POST", f"{api}/me/payout-account", token, {"country": country})
    assert status in (200, 201), (status, opened)
    form = urllib.parse.urlencode({"outcome": "complete"}).encode()
    try:
        urllib.request.build_opener(_NoRedirect).open(urllib.request.Request(opened["onboarding_url"], data=form), timeout=30)
    except urllib.error.HTTPError as e:
        assert e.code == 303, f"the onboarding page answered {e.code}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, account = _call("GET", f"{api}/me/payout-account", token)
        if status == 200 and account.get("can_receive_transfers"):
            return account["id"]
        if pump:
            pump()
        time.sleep(0.2)
    raise SystemExit("the payout account never became able to receive transfers (is the Connect webhook configured?)")


if __name__ == "__main__":
    print(onboard(sys.argv[1], sys.argv[2]))
