"""Drives every function of a running local runner (started by scripts/bench) and prints the
per-function benchmark table: binary and zip size, cold init, warm latency, CPU per call,
peak RSS and a cost line.

Each function gets its fixture from events/ (the same file `cargo lambda invoke --data-file`
takes), with the fixture's placeholder ids replaced by a seeded listing, booking and photo,
so the read paths find real items. Functions that change state get a fresh item per call
(a booking to accept, decline, cancel or pay, free days to book, a photo to delete, the
current If-Match), so every call does the work users ask of it rather than refusing a repeat. Calls go straight to the Runtime API through the runner's
`/_local/functions/{id}/invoke` (no gateway, no JWT check: the fixture carries the claims),
one instance per function, nothing else running (the runner has no event sources).

Nothing consumes the queues here, and moto's FIFO deduplication scans every message on each
send, so the driver purges the queues every 200 messages sent (every 200 calls, every 10 of
publish-events): moto stays as fast at the end of a run as at its start (purges happen
between calls; the runner and moto are not measured anyway).

Warm calls go in ROUNDS rounds (default 5) that take the functions in turn, and a function's
CPU per call is its median round: this machine's speed drifts by a third within minutes, and
back-to-back runs of 1,000 calls put each function in whatever minute it ran in.

Usage: bench_functions.py API_URL MOTO_URL BIN_DIR EVENTS_DIR DEV_SECRETS WARM COLD [ONLY,...] [ROUNDS]
"""
import base64
import hashlib
import hmac
import http.client
import io
import json
import math
import os
import statistics
import sys
import time
import urllib.parse
import uuid
import zipfile

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onboard_owner import onboard  # noqa: E402  (a sibling script)

API, MOTO, BIN_DIR, EVENTS, SECRETS = sys.argv[1:6]
WARM, COLD = int(sys.argv[6]), int(sys.argv[7])
ONLY = set(sys.argv[8].split(",")) if len(sys.argv) > 8 and sys.argv[8] else set()
ROUNDS = int(sys.argv[9]) if len(sys.argv) > 9 else 5

# The fixtures' placeholder ids (events/*.json) and the user their JWT claims name.
FIXTURE_USER = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10"
FIXTURE_LISTING = "0192d3f4-5a6b-7c8d-9e0f-112233445566"
FIXTURE_BOOKING = "0192d3f5-0000-7000-8000-0000000000b1"
FIXTURE_PHOTO = "0192d3f7-0000-7000-8000-0000000000f1"
FIXTURE_INQUIRY = "0192d3f5-0000-7000-8000-0000000000d1"
FIXTURE_CLAIM = "0192d3f5-0000-7000-8000-0000000000c1"

# arm64 Lambda list prices (us-east-1 and eu-central-1 alike, first pricing tier).
USD_PER_GB_SECOND = 0.0000133334
USD_PER_MILLION_REQUESTS = 0.20

# Functions whose first call changes what later ones see run last, in this order.
LAST = ["update-photo", "delete-photo", "accept-booking", "decline-booking", "cancel-booking", "pickup-booking",
        "return-booking", "read-messages", "write-review", "answer-review", "remove-review", "archive-listing"]

host, port = API.removeprefix("http://").split(":")
conn = http.client.HTTPConnection(host, int(port), timeout=120)


def call(method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)


def token(sub, name):
    status, body = call("POST", "/_local/token", {"sub": sub, "name": name, "email": f"{name.lower()}@example.com"})
    assert status == 200, body
    return body["token"]


LISTING = {"title": "Cordless drill", "description": "18 V, two batteries and a case of bits.", "category": "tools",
           "location": {"city": "Berlin", "country": "DE", "lat": 52.52, "lng": 13.405}, "daily_price": {"amount": 1500, "currency": "EUR"},
           "deposit": {"amount": 5000, "currency": "EUR"}, "min_days": 1, "max_days": 14, "booking_mode": "request", "status": "active"}
# A listing takes at most this many photos (MAX_PHOTOS_PER_LISTING); more answer 409.
PHOTOS_PER_LISTING = 20


def pump_payments():
    """The runner has no event sources here: hands the payments queue's waiting messages (the
    Connect webhook's account.updated, payments) to the payment worker, as Lambda's SQS poller
    would. Returns how many it handed over."""
    status, body = call("GET", "/_local/resources")
    assert status == 200
    queue = body["resources"]["PaymentsQueue"]["attributes"]
    sqs = boto3.client("sqs", endpoint_url=MOTO)
    messages = sqs.receive_message(QueueUrl=queue["QueueUrl"], MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    if not messages:
        return 0
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs", "eventSourceARN": queue["Arn"], "awsRegion": "eu-central-1"} for m in messages]
    status, body = call("POST", "/_local/functions/PaymentWorkerFunction/invoke", {"Records": records})
    assert status == 200 and "error" not in body and not (body.get("response") or {}).get("batchItemFailures"), body
    sqs.delete_message_batch(QueueUrl=queue["QueueUrl"],
                             Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return len(messages)


def seed():
    """A listing with 20 photos owned by the fixture user, and a booking of it by another user."""
    owner = token(FIXTURE_USER, "Fixture")
    renter = token(str(uuid.uuid4()), "Renter")
    for t in (owner, renter):
        status, body = call("GET", "/me", token=t)
        assert status == 200, (status, body)
    onboard(API, owner, pump=pump_payments)  # publishing needs a payout account that can receive transfers
    status, body = call("POST", "/listings", LISTING, owner)
    assert status == 201, (status, body)
    listing_id = body["id"]
    # As many photos as a listing may have, so the reads of a listing's photos are measured
    # at their largest; the fixtures name the first.
    photo_ids = []
    for _ in range(PHOTOS_PER_LISTING):
        status, body = call("POST", f"/listings/{listing_id}/photos", {"content_type": "image/jpeg", "size_bytes": 200000}, owner)
        assert status == 201, (status, body)
        photo_ids.append(body["photo_id"])
    photo_id = photo_ids[0]
    start = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 40 * 86400))
    end = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 43 * 86400))
    status, body = call("POST", "/bookings", {"listing_id": listing_id, "start_date": start, "end_date": end}, renter)
    assert status == 201, (status, body)
    return {FIXTURE_LISTING: listing_id, FIXTURE_BOOKING: body["id"], FIXTURE_PHOTO: photo_id}


def upload_events(fixture_text, seeded_listing, calls):
    """create-photo-upload events that each add a photo (201), not the 409 of a full listing:
    fresh listings of the fixture user, each taking PHOTOS_PER_LISTING calls in turn."""
    owner = token(FIXTURE_USER, "Fixture")
    listings = []
    for _ in range(math.ceil(calls / PHOTOS_PER_LISTING)):
        status, body = call("POST", "/listings", LISTING, owner)
        assert status == 201, (status, body)
        listings.append(body["id"])
    made = iter(range(calls))
    return lambda: json.loads(fixture_text.replace(seeded_listing, listings[next(made) // PHOTOS_PER_LISTING]))


def booking_days(n):
    """n one-day ranges, each free on a listing of its own turn: (listing index, start, end)."""
    per_listing = 300  # one-day bookings from tomorrow, within the 365 days a booking may start
    for i in range(n):
        day = time.time() + (2 + i % per_listing) * 86400
        yield i // per_listing, time.strftime("%Y-%m-%d", time.gmtime(day)), time.strftime("%Y-%m-%d", time.gmtime(day + 86400))


def listings_of(owner, count, mode):
    onboard(API, owner, pump=pump_payments)
    listings = []
    for _ in range(count):
        status, body = call("POST", "/listings", dict(LISTING, booking_mode=mode), owner)
        assert status == 201, (status, body)
        listings.append(body["id"])
    return listings


def fresh_bookings(calls, mode, renter_is_fixture):
    """`calls` bookings no call has touched yet, so a state change is measured doing its work
    every time (not refusing after the first): requested (`request`) or pending_payment
    (`instant`). The fixture user is their renter (pay, cancel) or their listings' owner
    (accept, decline)."""
    fixture = token(FIXTURE_USER, "Fixture")
    other = token(str(uuid.uuid4()), "Other")
    owner, renter = (other, fixture) if renter_is_fixture else (fixture, other)
    days = list(booking_days(calls))
    listings = listings_of(owner, days[-1][0] + 1, mode)
    ids = []
    for n, start, end in days:
        status, body = call("POST", "/bookings", {"listing_id": listings[n], "start_date": start, "end_date": end}, renter)
        assert status == 201, (status, body)
        ids.append(body["id"])
    return ids


def paid_bookings(calls, secret, renter_sub=None):
    """`calls` confirmed bookings of the fixture user's listings whose pickup is open (starting
    today or tomorrow), paid the way Stripe pays: a signed `payment_intent.succeeded` through the
    webhook function and the payment worker, by `renter_sub` (default: a new user). Returns
    (booking id, the renter's pickup code)."""
    fixture = token(FIXTURE_USER, "Fixture")
    renter = token(renter_sub or str(uuid.uuid4()), "Renter")
    listings = listings_of(fixture, math.ceil(calls / 2), "instant")
    day = lambda n: time.strftime("%Y-%m-%d", time.gmtime(time.time() + n * 86400))
    webhook = json.loads(open(os.path.join(EVENTS, "stripe-webhook.json")).read())
    booked = []
    for i in range(calls):
        start = i % 2
        status, body = call("POST", "/bookings", {"listing_id": listings[i // 2], "start_date": day(start), "end_date": day(start + 1)}, renter)
        assert status == 201, (status, body)
        paid = {"id": f"pi_{uuid.uuid4().hex[:24]}", "object": "payment_intent", "amount": body["quote"]["total"], "currency": "eur",
                "latest_charge": f"ch_{uuid.uuid4().hex[:24]}", "metadata": {"booking_id": body["id"]}}
        event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "payment_intent.succeeded",
                 "created": int(time.time()), "data": {"object": paid}}
        assert invoke("StripeWebhookFunction", signed(webhook, secret, event))[2] == "200"
        booked.append(body["id"])
        if i % 10 == 9 or i == calls - 1:
            while pump_payments():
                pass
    out = []
    for b in booked:
        status, body = call("GET", f"/bookings/{b}", token=renter)
        assert status == 200 and body["status"] == "confirmed", (status, body)
        out.append((b, body["handover"]["code"]))
    return out


def missing_deposit_booking(secret):
    """A booking of the fixture user's (as renter), paid by a PaymentIntent without a Customer
    (as before decision 0040), so its deposit waits for the renter to confirm a hold."""
    booking = fresh_bookings(1, "instant", renter_is_fixture=True)[0]
    status, body = call("GET", f"/bookings/{booking}", token=token(FIXTURE_USER, "Fixture"))
    assert status == 200, (status, body)
    webhook = json.loads(open(os.path.join(EVENTS, "stripe-webhook.json")).read())
    paid = {"id": f"pi_{uuid.uuid4().hex[:24]}", "object": "payment_intent", "amount": body["quote"]["total"], "currency": "eur",
            "latest_charge": f"ch_{uuid.uuid4().hex[:24]}", "metadata": {"booking_id": booking}}
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "payment_intent.succeeded",
             "created": int(time.time()), "data": {"object": paid}}
    assert invoke("StripeWebhookFunction", signed(webhook, secret, event))[2] == "200"
    while pump_payments():
        pass
    status, body = call("GET", f"/bookings/{booking}", token=token(FIXTURE_USER, "Fixture"))
    assert status == 200 and body["deposit"]["status"] == "failed", (status, body)
    return booking


def returned_stays(calls, secret, renter_sub=None):
    """`calls` stays of the fixture user's listings, paid, picked up and returned now, so their
    reviews are open: (their ids, their renter's token)."""
    renter_sub = renter_sub or str(uuid.uuid4())
    paid = paid_bookings(calls, secret, renter_sub)
    owner = token(FIXTURE_USER, "Fixture")
    for b, code in paid:
        status, body = call("POST", f"/bookings/{b}/pickup", {"code": code}, owner)
        assert status == 200, (status, body)
        status, body = call("POST", f"/bookings/{b}/return", {}, owner)
        assert status == 200 and body["status"] == "returned", (status, body)
    return [b for b, _ in paid], token(renter_sub, "Renter")


REVIEWED = {}


def reviewed_stays(calls, secret, pool):
    """`calls` returned stays (kept under `pool`) whose renter reviewed the fixture user and
    the fixture user the renter: the renter's review published, unanswered."""
    if pool not in REVIEWED:
        stays, renter = returned_stays(calls, secret)
        owner = token(FIXTURE_USER, "Fixture")
        for b in stays:
            for t, text in ((renter, "Worked well, friendly handover."), (owner, "On time and careful.")):
                status, body = call("POST", f"/bookings/{b}/reviews", {"rating": 4, "text": text}, t)
                assert status == 201, (status, body)
        REVIEWED[pool] = stays
    return REVIEWED[pool]


def put_evidence(upload, data):
    """PUTs `data` to a presigned evidence upload, with exactly the headers it names."""
    url = upload["upload"]["url"]
    host, path = url.split("://", 1)[1].split("/", 1)
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("PUT", "/" + path, body=data, headers=upload["upload"]["headers"])
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200, (resp.status, url)


def claim_events(binary, text, ids, calls, secret):
    """Claims' functions on returned stays of the fixture user's listings (it owns them, decision
    0043): each call asks for an evidence upload (20 per stay), files a claim on a stay of its
    own, contests one (its renter) or decides one (an operator who is no party); the reads
    take a claim with two checked PDFs (check-evidence invoked as S3 would) or the escalated
    queue."""
    made = iter(range(calls))
    owner = token(FIXTURE_USER, "Fixture")
    if binary == "create-evidence-upload":
        stays, _ = returned_stays(math.ceil(calls / 20), secret)
        return lambda: json.loads(text.replace(ids[FIXTURE_BOOKING], stays[next(made) // 20]))
    many = binary in ("file-claim", "answer-claim", "decide-claim")
    renter_sub = str(uuid.uuid4())
    stays, renter = returned_stays(calls if many else 1, secret, renter_sub)
    claim = {"amount": 1000, "description": "Cracked lens, see the photos."}
    if binary == "file-claim":
        def filing():
            e = json.loads(text.replace(ids[FIXTURE_BOOKING], stays[next(made)]))
            e["body"] = json.dumps(claim)
            return e
        return filing
    if binary == "get-claim":
        pdf = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "claim.pdf"), "rb").read()
        check = json.loads(open(os.path.join(EVENTS, "check-evidence.json")).read())
        files = []
        for _ in range(2):
            status, up = call("POST", f"/bookings/{stays[0]}/evidence", {"content_type": "application/pdf", "size_bytes": len(pdf)}, owner)
            assert status == 201, (status, up)
            put_evidence(up, pdf)
            check["Records"][0]["s3"]["object"]["key"] = f"evidence/{stays[0]}/{up['evidence_id']}"
            assert invoke("CheckEvidenceFunction", check)[2] == "ok"
            files.append(up["evidence_id"])
        status, body = call("POST", f"/bookings/{stays[0]}/claims", dict(claim, evidence=files), owner)
        assert status == 201, (status, body)
        return lambda: json.loads(text.replace(ids[FIXTURE_BOOKING], stays[0]))
    claims = []
    for b in stays:
        status, body = call("POST", f"/bookings/{b}/claims", claim, owner)
        assert status == 201, (status, body)
        claims.append((b, body["id"]))
    if binary == "answer-claim":
        def answering():
            e = json.loads(text.replace(ids[FIXTURE_BOOKING], claims[next(made)][0]))
            e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = renter_sub
            return e
        return answering
    for b, _ in claims:
        status, body = call("POST", f"/bookings/{b}/claim/answer", {"answer": "contest", "statement": "It was cracked at pickup."}, renter)
        assert status == 200, (status, body)
    if binary == "list-claims":
        return None
    operator = str(uuid.uuid4())

    def by_operator():
        e = json.loads(text.replace(FIXTURE_CLAIM, claims[next(made) if binary == "decide-claim" else 0][1]))
        e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = operator
        if binary == "decide-claim":
            e["body"] = json.dumps({"amount": 500, "note": "Half: the pickup report shows a mark."})
        return e
    return by_operator


def real_work_events(binary, text, ids, calls, secret):
    """Events that make each call do the function's real work (None: the fixture as it is)."""
    made = iter(range(calls))
    if binary == "create-booking":
        # The fixture user books someone else's listings, each call other days and its own key.
        other = token(str(uuid.uuid4()), "Owner")
        days = list(booking_days(calls))
        listings = listings_of(other, days[-1][0] + 1, "request")

        def booking():
            n, start, end = days[next(made)]
            e = json.loads(text.replace(ids[FIXTURE_LISTING], listings[n]))
            e["body"] = json.dumps(dict(json.loads(e["body"]), start_date=start, end_date=end))
            e["headers"]["idempotency-key"] = str(uuid.uuid4())
            return e
        return booking
    if binary in ("create-payment", "cancel-booking", "accept-booking", "decline-booking"):
        mode = "instant" if binary == "create-payment" else "request"
        fresh = fresh_bookings(calls, mode, renter_is_fixture=binary in ("create-payment", "cancel-booking"))
        return lambda: json.loads(text.replace(ids[FIXTURE_BOOKING], fresh[next(made)]))
    if binary == "place-deposit":
        # The first call asks Stripe for the hold the renter confirms; every other answers it
        # again (a client retrying), as most calls will.
        booking = missing_deposit_booking(secret)
        return lambda: json.loads(text.replace(ids[FIXTURE_BOOKING], booking))
    if binary in ("pickup-booking", "return-booking"):
        # The owner (the fixture user) confirms: the pickup with the renter's code; the return
        # of items they handed over, without one.
        paid = paid_bookings(calls, secret)
        if binary == "pickup-booking":
            return lambda: handover(text, ids, *paid[next(made)])
        owner = token(FIXTURE_USER, "Fixture")
        for b, code in paid:
            status, body = call("POST", f"/bookings/{b}/pickup", {"code": code}, owner)
            assert status == 200 and body["status"] == "in_progress", (status, body)
        return lambda: handover(text, ids, paid[next(made)][0], None)
    if binary in ("write-condition-report", "list-condition-reports"):
        # Paid stays of the fixture user's listings whose pickup is open: each call writes the
        # owner's (the fixture user's) pickup report of one in turn (its next version: the
        # notes change each call; the same contents again would store nothing), or
        # reads a stay with both parties' pickup reports.
        paid = paid_bookings(10, secret)
        if binary == "write-condition-report":
            def edit():
                n = next(made)
                e = json.loads(text.replace(ids[FIXTURE_BOOKING], paid[n % len(paid)][0]))
                body = json.loads(e["body"])
                body["notes"] = f"{body['notes']} (check {n})"  # new contents: a new version each call
                e["body"] = json.dumps(body)
                return e
            return edit
        stay = paid[0][0]
        status, body = call("GET", f"/bookings/{stay}", token=token(FIXTURE_USER, "Fixture"))
        assert status == 200, (status, body)
        renter = token(body["renter_id"], "Renter")
        for t in (renter, token(FIXTURE_USER, "Fixture")):
            status, body = call("PUT", f"/bookings/{stay}/condition-reports/pickup", {"notes": "Body clean, lens hood scratched.", "checklist": [{"item": "lens", "ok": True}]}, t)
            assert status == 201, (status, body)
        return lambda: json.loads(text.replace(ids[FIXTURE_BOOKING], stay))
    if binary == "update-notification-settings":
        # Each call flips the fixture user's message e-mails: every call stores a change.
        def flip():
            e = json.loads(text)
            e["body"] = json.dumps({"email": {"messages": next(made) % 2 == 1}})
            return e
        return flip
    if binary == "unsubscribe":
        # Signed one-click links of members of their own (a verified token and a write per call).
        key = json.load(open(SECRETS))["EmailLinkSecret"].encode()

        def link():
            user, category = str(uuid.uuid4()), ("messages", "reviews")[next(made) % 2]
            tag = hmac.new(key, f"unsubscribe/v1\n{user}\n{category}".encode(), hashlib.sha256).digest()
            e = json.loads(text)
            e["queryStringParameters"] = {"user": user, "category": category,
                                          "token": base64.urlsafe_b64encode(tag).rstrip(b"=").decode()}
            e["rawQueryString"] = urllib.parse.urlencode(e["queryStringParameters"])
            return e
        return link
    if binary == "write-review":
        # The fixture user (the owner) reviews returned stays; the renter has reviewed every
        # other one already, so half the calls write a hidden review and half publish both.
        stays, renter = returned_stays(calls, secret)
        for b in stays[::2]:
            status, body = call("POST", f"/bookings/{b}/reviews", {"rating": 5, "text": "Great tent."}, renter)
            assert status == 201 and body["status"] == "hidden", (status, body)
        return lambda: json.loads(text.replace(ids[FIXTURE_BOOKING], stays[next(made)]))
    if binary in ("answer-review", "remove-review"):
        # Each call answers (as the reviewed owner) or removes (as an operator) a published
        # review of its own.
        stays = reviewed_stays(calls, secret, binary)
        return lambda: json.loads(text.replace(ids[FIXTURE_BOOKING], stays[next(made)]))
    if binary == "list-listing-reviews":
        # A listing with its renters' published reviews (two stays: the pickup window allows no
        # more on one listing); list-user-reviews reads the fixture user's, a full page.
        stay = reviewed_stays(calls, secret, "answer-review")[0]
        status, body = call("GET", f"/bookings/{stay}", token=token(FIXTURE_USER, "Fixture"))
        assert status == 200, (status, body)
        return lambda: json.loads(text.replace(ids[FIXTURE_LISTING], body["listing_id"]))
    if binary == "post-message":
        # 40 renters, each with a booking of the fixture user's listings, take turns writing, so
        # no sender reaches the 30-a-minute limit (26 messages each): every call stores one.
        senders = []
        listings = listings_of(token(FIXTURE_USER, "Fixture"), 1, "request")
        for n, start, end in list(booking_days(40)):
            sub = str(uuid.uuid4())
            status, body = call("POST", "/bookings", {"listing_id": listings[0], "start_date": start, "end_date": end}, token(sub, "Renter"))
            assert status == 201, (status, body)
            senders.append((sub, body["id"]))

        def message():
            sub, booking = senders[next(made) % len(senders)]
            e = json.loads(text.replace(ids[FIXTURE_BOOKING], booking))
            e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub
            return e
        return message
    if binary in ("read-messages", "list-threads"):
        # The fixture user rents from 40 owners, 26 bookings each; each owner writes once in
        # each thread (26 messages: under the 30-a-minute limit). A read receipt per call, each
        # in a thread of its own; the inbox the fixture user lists holds all those threads.
        renter = token(FIXTURE_USER, "Fixture")
        receipts = []
        for _ in range(math.ceil(calls / 26)):
            sub = str(uuid.uuid4())
            owner = token(sub, "Owner")
            days = list(booking_days(26))
            listing = listings_of(owner, 1, "request")[0]
            for _, start, end in days:
                status, body = call("POST", "/bookings", {"listing_id": listing, "start_date": start, "end_date": end}, renter)
                assert status == 201, (status, body)
                booking = body["id"]
                status, body = call("POST", f"/bookings/{booking}/messages", {"text": "Pickup at 9?"}, owner)
                assert status == 201, (status, body)
                receipts.append((booking, body["id"]))
        if binary == "list-threads":
            return None

        def receipt():
            booking, message = receipts[next(made)]
            e = json.loads(text.replace(ids[FIXTURE_BOOKING], booking))
            e["body"] = json.dumps({"up_to": message})
            return e
        return receipt
    if binary in ("open-inquiry", "post-inquiry-message", "read-inquiry-messages"):
        # A listing of the fixture user; each call by a renter of its own: open-inquiry opens
        # a new inquiry every time. For the others each renter opened one (a message of theirs);
        # 40 renters take turns writing in theirs (26 each, under the 30-a-minute limit), or
        # the fixture user marks each one read, one inquiry per call. The fixture user sends
        # nothing: its limits stay for the other functions.
        listing = listings_of(token(FIXTURE_USER, "Fixture"), 1, "request")[0]
        renters = [str(uuid.uuid4()) for _ in range(40 if binary == "post-inquiry-message" else calls)]
        if binary == "open-inquiry":
            def opening():
                e = json.loads(text.replace(ids[FIXTURE_LISTING], listing))
                e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = renters[next(made)]
                return e
            return opening
        threads = []
        for sub in renters:
            status, body = call("POST", f"/listings/{listing}/inquiries", {"message": "Free next weekend?"}, token(sub, "Renter"))
            assert status == 201, (status, body)
            threads.append((sub, body["id"], body["message"]["id"]))

        def inquiry_event():
            sub, inquiry, asked = threads[next(made) % len(threads)]
            e = json.loads(text.replace(FIXTURE_INQUIRY, inquiry))
            if binary == "post-inquiry-message":
                e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub
            else:
                e["body"] = json.dumps({"up_to": asked})
            return e
        return inquiry_event
    if binary == "list-inquiry-messages":
        # An inquiry of 20 messages (its renter's), read by the fixture user who owns the listing.
        renter = token(str(uuid.uuid4()), "Renter")
        listing = listings_of(token(FIXTURE_USER, "Fixture"), 1, "request")[0]
        status, body = call("POST", f"/listings/{listing}/inquiries", {"message": "Free next weekend?"}, renter)
        assert status == 201, (status, body)
        inquiry = body["id"]
        for n in range(19):
            status, body = call("POST", f"/inquiries/{inquiry}/messages", {"text": f"Message {n}: is 9 ok?"}, renter)
            assert status == 201, (status, body)
        return lambda: json.loads(text.replace(FIXTURE_INQUIRY, inquiry))
    if binary == "list-messages":
        # A thread with a page of messages to read (the fixture user owns the seeded booking).
        owner = token(FIXTURE_USER, "Fixture")
        for n in range(20):
            status, body = call("POST", f"/bookings/{ids[FIXTURE_BOOKING]}/messages", {"text": f"Message {n}: is 9 ok?"}, owner)
            assert status == 201, (status, body)
        return None
    if binary in ("create-evidence-upload", "file-claim", "answer-claim", "decide-claim", "list-claims",
                  "review-claim", "get-claim"):
        return claim_events(binary, text, ids, calls, secret)
    if binary == "send-email":
        # Each call e-mails a new booking event's two parties (members with verified addresses):
        # per party the ledger's lease, one BatchGetItem, one GetItem, SES's send, the ledger's
        # update (moto's SES checks the identity and keeps the mail).
        renter, owner = str(uuid.uuid4()), str(uuid.uuid4())
        for sub, name in ((renter, "Renter"), (owner, "Owner")):
            status, body = call("GET", "/me", token=token(sub, name))
            assert status == 200, (status, body)
        template = json.loads(text)["Records"][0]

        def accepted():
            r = json.loads(json.dumps(template))
            event = json.loads(r["body"])
            event["id"] = str(uuid.uuid4())
            event["data"]["renter_id"], event["data"]["owner_id"] = renter, owner
            r["body"] = json.dumps(event)
            return {"Records": [r]}
        return accepted
    if binary == "publish-events":
        # Stream batches of 10 new booking events (audit entries, decision 0039), as Lambda
        # hands them over: one SendMessageBatch to the booking-events queue per call.
        template = json.loads(text)["Records"][1]

        def batch():
            records = []
            for i in range(10):
                r = json.loads(json.dumps(template))
                event = json.loads(r["dynamodb"]["NewImage"]["event"]["S"])
                event["id"], event["subject"] = str(uuid.uuid4()), f"booking/{uuid.uuid4()}"
                r["dynamodb"]["NewImage"]["event"]["S"] = json.dumps(event)
                pk, sk = f"AUDIT#{event['subject']}", f"EVT#{event['occurred_at']}#{event['id']}"
                r["dynamodb"]["Keys"]["PK"]["S"] = r["dynamodb"]["NewImage"]["PK"]["S"] = pk
                r["dynamodb"]["Keys"]["SK"]["S"] = r["dynamodb"]["NewImage"]["SK"]["S"] = sk
                r["dynamodb"]["NewImage"]["event_id"]["S"] = event["id"]
                r["dynamodb"]["SequenceNumber"] = str(next(made) * 10 + i)
                records.append(r)
            return {"Records": records}
        made = iter(range(10 ** 9))
        return batch
    if binary == "delete-photo":
        owner = token(FIXTURE_USER, "Fixture")
        photos = []
        for listing in listings_of(owner, math.ceil(calls / PHOTOS_PER_LISTING), "request"):
            for _ in range(PHOTOS_PER_LISTING):
                status, body = call("POST", f"/listings/{listing}/photos", {"content_type": "image/jpeg", "size_bytes": 200000}, owner)
                assert status == 201, (status, body)
                photos.append((listing, body["photo_id"]))

        def deletion():
            listing, photo = photos[next(made)]
            return json.loads(text.replace(ids[FIXTURE_LISTING], listing).replace(ids[FIXTURE_PHOTO], photo))
        return deletion
    if binary == "update-listing":
        # Its own listing, edited with the If-Match each edit makes current (version + 1).
        listing = listings_of(token(FIXTURE_USER, "Fixture"), 1, "request")[0]

        def edit():
            e = json.loads(text.replace(ids[FIXTURE_LISTING], listing))
            e["headers"]["if-match"] = f'"{next(made) + 1}"'
            return e
        return edit
    return None


def queue_purger():
    """A function that empties every queue of the stack."""
    status, body = call("GET", "/_local/resources")
    assert status == 200
    urls = [r["attributes"]["QueueUrl"] for r in body["resources"].values() if r.get("attributes", {}).get("QueueUrl")]
    sqs = boto3.client("sqs", endpoint_url=MOTO)
    return lambda: [sqs.purge_queue(QueueUrl=url) for url in urls]


def stats():
    status, body = call("GET", "/_local/stats")
    assert status == 200
    return body["functions"]


def alive(fn):
    return [p for p in stats()[fn]["processes"] if p["alive"]]


def invoke(fn, event):
    start = time.perf_counter()
    status, body = call("POST", f"/_local/functions/{fn}/invoke", event)
    wall = (time.perf_counter() - start) * 1000
    assert status == 200, (fn, status, body)
    if "error" in body:
        outcome = "error"
    elif isinstance(body["response"], dict) and "statusCode" in body["response"]:
        outcome = str(body["response"]["statusCode"])
    elif isinstance(body["response"], dict) and body["response"].get("batchItemFailures"):
        outcome = f"{len(body['response']['batchItemFailures'])} failed"
    else:
        outcome = "ok"
    return wall, body.get("duration_ms") or 0.0, outcome


def handover(text, ids, booking, code):
    """A pickup or return event of `booking` by the fixture user, with `code` (or none)."""
    e = json.loads(text.replace(ids[FIXTURE_BOOKING], booking))
    e["body"] = json.dumps({"code": code} if code else {})
    return e


def signed(fixture, secret, event):
    """`fixture` carrying `event` signed with `secret` now, as Stripe delivers it."""
    body = json.dumps(event, separators=(",", ":"))
    t = int(time.time())
    sig = hmac.new(secret, f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    out = dict(fixture)
    out["headers"] = dict(fixture["headers"], **{"stripe-signature": f"t={t},v1={sig}"})
    out["body"] = body
    out["isBase64Encoded"] = False
    return out


def webhook_event(fixture, secret, connect=False):
    """A fresh, correctly signed Stripe event (as Stripe delivers), for a webhook function: a
    payment for the platform's, a connected account's update for the Connect one."""
    if connect:
        account = f"acct_{uuid.uuid4().hex[:16]}"
        event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "account.updated", "account": account,
                 "created": int(time.time()), "data": {"object": dict(json.loads(fixture["body"])["data"]["object"], id=account)}}
    else:
        event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "payment_intent.succeeded", "created": int(time.time()),
                 "data": {"object": {"id": f"pi_{uuid.uuid4().hex[:24]}", "object": "payment_intent", "amount": 9125,
                                     "currency": "eur", "metadata": {"booking_id": str(uuid.uuid4())}}}}
    return signed(fixture, secret, event)


def zipped(path):
    """Size of `path` and of a zip holding it as `bootstrap` (as Lambda takes it)."""
    data = open(path, "rb").read()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(zipfile.ZipInfo("bootstrap"), data, zipfile.ZIP_DEFLATED)
    return len(data), len(buf.getvalue())


def arm64_zip(logical_id):
    """The deployable arm64 zip's size, when `sam build` (scripts/deploy) has built it."""
    path = os.path.join(os.path.dirname(EVENTS), ".aws-sam", "build", logical_id, "bootstrap")
    return zipped(path)[1] if os.path.exists(path) else None


def cpu_times():
    """The machine's CPU time so far, in clock ticks: (steal, total). Steal is time the
    hypervisor gave this VM's CPUs to someone else; on a shared host it comes and goes, and
    while it is high every figure here is slower."""
    fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    return fields[7], sum(fields[:8])


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def main():
    secret = json.load(open(SECRETS))["StripeSecret"]["webhook_secret"].encode()
    connect_secret = json.load(open(SECRETS))["StripeConnectSecret"]["webhook_secret"].encode()
    ids = seed()
    purge = queue_purger()
    functions = stats()
    order = sorted(functions, key=lambda f: (functions[f]["binary"] in LAST, LAST.index(functions[f]["binary"]) if functions[f]["binary"] in LAST else 0, functions[f]["binary"]))
    order = [fn for fn in order if not ONLY or functions[fn]["binary"] in ONLY or fn in ONLY]
    events = {}
    for fn in order:
        binary = functions[fn]["binary"]
        text = open(os.path.join(EVENTS, f"{binary}.json")).read()
        for placeholder, real in ids.items():
            text = text.replace(placeholder, real)
        fixture = json.loads(text)
        if binary == "stripe-webhook":
            events[fn] = lambda fixture=fixture: webhook_event(fixture, secret)
        elif binary == "stripe-connect-webhook":
            events[fn] = lambda fixture=fixture: webhook_event(fixture, connect_secret, connect=True)
        elif binary == "create-photo-upload":
            events[fn] = upload_events(text, ids[FIXTURE_LISTING], COLD + 20 + WARM)
        elif (real := real_work_events(binary, text, ids, COLD + 20 + WARM, secret)) is not None:
            events[fn] = real
        else:
            events[fn] = lambda fixture=fixture: fixture

    purge()  # seeding published thousands of events; the measured calls start on empty queues

    # Cold starts: stop the instance, invoke, read spawn -> first /next. Then 20 warm-up calls
    # on the instance that stays.
    init_ms, pids = {}, {}

    def cold_starts(fn):
        init_ms[fn] = []
        for _ in range(COLD):
            call("POST", f"/_local/functions/{fn}/recycle")
            invoke(fn, events[fn]())
            init_ms[fn].append(stats()[fn]["init_ms"][-1])
        for _ in range(20):
            invoke(fn, events[fn]())
        procs = alive(fn)
        assert len(procs) == 1, (fn, procs)
        pids[fn] = procs[0]["pid"]

    # Warm: WARM calls per function on its one instance, in ROUNDS rounds that go through the
    # functions in turn, so a change in this machine's speed during the run (it drifts by a
    # third within minutes) spreads over every function instead of landing on whichever ran
    # then. CPU per call is each function's median round; the spread is reported beside it.
    # Functions whose first call changes what later ones see (LAST) cannot take turns with
    # the rest: they run their cold starts and rounds back to back, after everything else.
    cpu_rounds = {fn: [] for fn in order}
    walls = {fn: [] for fn in order}
    durations = {fn: [] for fn in order}
    outcomes = {fn: {} for fn in order}
    per_round = max(1, WARM // ROUNDS)
    since_purge = 0

    def warm_round(fn):
        nonlocal since_purge
        before = alive(fn)
        assert len(before) == 1 and before[0]["pid"] == pids[fn], (fn, "the warm instance was replaced")
        for _ in range(per_round):
            if since_purge >= 200:
                purge()
                since_purge = 0
            wall, duration, outcome = invoke(fn, events[fn]())
            # publish-events sends 10 messages a call, the others at most one.
            since_purge += 10 if functions[fn]["binary"] == "publish-events" else 1
            walls[fn].append(wall)
            durations[fn].append(duration)
            outcomes[fn][outcome] = outcomes[fn].get(outcome, 0) + 1
        after = alive(fn)
        assert len(after) == 1 and after[0]["pid"] == pids[fn], (fn, "the warm instance was replaced")
        cpu_rounds[fn].append((after[0]["cpu_ms"] - before[0]["cpu_ms"]) / per_round)

    steal_start, total_start = cpu_times()
    rotating = [fn for fn in order if functions[fn]["binary"] not in LAST]
    for fn in rotating:
        cold_starts(fn)
    for r in range(ROUNDS):
        for fn in rotating:
            warm_round(fn)
        print(f"  round {r + 1}/{ROUNDS} of {len(rotating)} functions done", file=sys.stderr, flush=True)
    for fn in order:
        if fn not in rotating:
            cold_starts(fn)
            for _ in range(ROUNDS):
                warm_round(fn)

    steal_end, total_end = cpu_times()
    steal = 100 * (steal_end - steal_start) / max(1, total_end - total_start)
    rows = []
    for fn in order:
        binary = functions[fn]["binary"]
        after = alive(fn)
        memory_gb = functions[fn]["memory_mb"] / 1024
        billed_s = sum(math.ceil(d) for d in durations[fn]) / len(durations[fn]) / 1000
        cost = USD_PER_MILLION_REQUESTS + billed_s * memory_gb * USD_PER_GB_SECOND * 1e6
        size, zip_size = zipped(os.path.join(BIN_DIR, binary))
        rows.append(dict(name=binary, memory=functions[fn]["memory_mb"], size=size, zipped=zip_size, arm64=arm64_zip(fn), init=statistics.median(init_ms[fn]),
                         p50=pct(walls[fn], 0.5), p99=pct(walls[fn], 0.99), dur=statistics.mean(durations[fn]), cpu=statistics.median(cpu_rounds[fn]),
                         cpu_min=min(cpu_rounds[fn]), cpu_max=max(cpu_rounds[fn]), rss=after[0]["peak_rss_kb"] / 1024, cost=cost, outcomes=outcomes[fn]))
        r = rows[-1]
        print(f"  {binary}: init {r['init']:.1f} ms, cpu {r['cpu']:.3f} ms/call ({r['cpu_min']:.2f}-{r['cpu_max']:.2f}), rss {r['rss']:.1f} MiB, {r['outcomes']}", file=sys.stderr, flush=True)

    print(f"{len(rows)} functions, release builds, {COLD} cold starts and {per_round * ROUNDS} warm calls each in {ROUNDS} rounds, one instance, against moto; "
          f"CPU steal during the calls {steal:.1f}% (time the host gave this VM's CPUs to others)\n")
    print("| function | MB | binary | zip | arm64 zip (sam build) | cold init (median) | warm p50 / p99 (wall) | function duration (mean) | CPU per call (median round; rounds' range) | peak RSS | USD per 1M calls | responses |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        mix = ", ".join(f"{k}×{v}" for k, v in sorted(r["outcomes"].items(), key=lambda kv: -kv[1]))
        arm64 = f"{r['arm64'] / 1e6:.2f} MB" if r["arm64"] else "-"
        print(f"| {r['name']} | {r['memory']} | {r['size'] / 1e6:.2f} MB | {r['zipped'] / 1e6:.2f} MB | {arm64} | {r['init']:.1f} ms | {r['p50']:.1f} / {r['p99']:.1f} ms "
              f"| {r['dur']:.1f} ms | {r['cpu']:.2f} ms ({r['cpu_min']:.2f}-{r['cpu_max']:.2f}) | {r['rss']:.1f} MiB | {r['cost']:.3f} | {mix} |")
    api = [r for r in rows if any(k.isdigit() for k in r["outcomes"])]
    if api:
        print(f"\nAPI functions ({len(api)}): init median of medians {statistics.median(r['init'] for r in api):.1f} ms (target <= 20), "
              f"CPU per call max {max(r['cpu'] for r in api):.2f} ms (target <= 1), peak RSS max {max(r['rss'] for r in api):.1f} MiB (target <= 32), "
              f"zip max {max(r['zipped'] for r in api) / 1e6:.2f} MB here, {max(r['arm64'] or 0 for r in api) / 1e6:.2f} MB arm64 (target <= 5)")
        # The deployable (arm64) zip counts where sam build has made it.
        over = [r["name"] for r in api if r["init"] > 20 or r["cpu"] > 1 or r["rss"] > 32 or (r["arm64"] or r["zipped"]) > 5e6]
        print(f"API functions over a target: {', '.join(over) if over else 'none'}")


main()
