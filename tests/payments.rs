//! Payments end to end with localstripe: the renter pays, localstripe sends the signed
//! webhook to the local gateway, the webhook function queues it (FIFO), the payment worker
//! confirms the booking. Declines, refunds on cancellation, replays and forgeries.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use integration_tests::{env, eventually, get_json, http, local_stripe, new_user, run_scheduled, token, PrivateRunner};
use serde_json::{json, Value};

fn day(offset: i64) -> NaiveDate {
    Utc::now().date_naive() + chrono::Duration::days(offset)
}

fn dev_secret(field: &str) -> String {
    let root = std::env::var("PROJECT_ROOT").expect("PROJECT_ROOT");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{root}/local-runner/dev-secrets.json")).unwrap())
            .unwrap();
    v["StripeSecret"][field].as_str().unwrap().to_owned()
}

struct Booked {
    id: String,
    total: i64,
    quote: Value,
    renter: String,
    owner: String,
}

async fn booked(start: i64) -> Booked {
    booked_under(start, "moderate").await
}

/// A renter's booking of a fresh, published listing with `policy`, `start` days ahead, 3 days.
async fn booked_under(start: i64, policy: &str) -> Booked {
    let api = &env().api;
    let (owner, renter) = (token(&new_user()).await, token(&new_user()).await);
    integration_tests::onboard(&owner).await;
    let listing: Value = http()
        .post(format!("{api}/listings"))
        .bearer_auth(&owner)
        .json(&json!({
            "title": "Road bike", "category": "bikes", "location": {"city": "Berlin", "country": "DE"},
            "daily_price": {"amount": 2000, "currency": "EUR"}, "deposit": {"amount": 10000, "currency": "EUR"},
            "min_days": 1, "max_days": 14, "booking_mode": "instant", "status": "active",
            "cancellation_policy": policy
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = http()
        .post(format!("{api}/bookings"))
        .bearer_auth(&renter)
        .json(&json!({"listing_id": listing["id"], "start_date": day(start), "end_date": day(start + 3)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let b: Value = resp.json().await.unwrap();
    assert_eq!(b["status"], "pending_payment");
    assert_eq!(b["cancellation_policy"], policy);
    Booked {
        id: b["id"].as_str().unwrap().to_owned(),
        total: b["quote"]["total"].as_i64().unwrap(),
        quote: b["quote"].clone(),
        renter,
        owner,
    }
}

async fn pay(b: &Booked) -> Value {
    let resp =
        http().post(format!("{}/bookings/{}/payment", env().api, b.id)).bearer_auth(&b.renter).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    resp.json().await.unwrap()
}

async fn booking(b: &Booked) -> Value {
    get_json(&format!("{}/bookings/{}", env().api, b.id), &b.renter).await
}

/// The renter cancels, with `reason`.
async fn cancel(b: &Booked, reason: &str) -> Value {
    http()
        .post(format!("{}/bookings/{}/cancel", env().api, b.id))
        .bearer_auth(&b.renter)
        .json(&json!({"reason": reason}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// What the browser does with Stripe.js: attach a card and confirm (localstripe's way).
async fn confirm_with(intent: &str, payment_method: &str) -> u16 {
    let sk = dev_secret("secret_key");
    let r = http()
        .post(format!("{}/v1/payment_intents/{intent}", local_stripe()))
        .bearer_auth(&sk)
        .form(&[("payment_method", payment_method)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "attaching {payment_method}: {:?}", r.text().await);
    http()
        .post(format!("{}/v1/payment_intents/{intent}/confirm", local_stripe()))
        .bearer_auth(&sk)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn signed(body: &str, secret: &str) -> String {
    integration_tests::stripe_signature(secret, Utc::now().timestamp(), body)
}

async fn post_webhook(body: &str, signature: &str) -> (u16, Value) {
    integration_tests::post_signed("/webhooks/stripe", signature, body).await
}

async fn eventually_booking(b: &Booked, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually(Duration::from_secs(40), what, || async {
        let v = booking(b).await;
        check(&v).then_some(v)
    })
    .await
}

#[tokio::test]
async fn pay_confirm_by_webhook_then_cancel_and_refund() {
    let b = booked(20).await;
    let payment = pay(&b).await;
    assert_eq!((payment["amount"].as_i64(), payment["currency"].as_str()), (Some(b.total), Some("EUR")));
    assert!(payment["client_secret"].as_str().unwrap().starts_with("pi_"));
    assert_eq!(payment["publishable_key"], dev_secret("publishable_key").as_str());
    let intent = payment["payment_intent_id"].as_str().unwrap().to_owned();
    assert_eq!(pay(&b).await["payment_intent_id"], intent.as_str(), "a retry returns the same intent");
    // The owner may not pay; strangers see nothing.
    let r = http().post(format!("{}/bookings/{}/payment", env().api, b.id)).bearer_auth(&b.owner).send().await.unwrap();
    assert_eq!(r.status(), 403);

    assert_eq!(confirm_with(&intent, "pm_card_visa").await, 200);
    let confirmed = eventually_booking(&b, "the webhook to confirm the booking", |v| v["status"] == "confirmed").await;
    assert_eq!(confirmed["payment"]["status"], "succeeded");
    let r =
        http().post(format!("{}/bookings/{}/payment", env().api, b.id)).bearer_auth(&b.renter).send().await.unwrap();
    assert_eq!(r.status(), 409, "a confirmed booking is not payable again");

    // Renter cancels 20 days ahead: everything back, through Stripe's refund API.
    let cancelled = cancel(&b, "Trip cancelled").await;
    assert_eq!(
        (
            cancelled["status"].as_str(),
            cancelled["payment"]["refund_status"].as_str(),
            cancelled["payment"]["refund_amount"].as_i64()
        ),
        (Some("cancelled"), Some("requested"), Some(b.total))
    );
    let refunds =
        get_json(&format!("{}/v1/refunds?payment_intent={intent}", local_stripe()), &dev_secret("secret_key")).await;
    assert_eq!(refunds["data"][0]["amount"].as_i64(), Some(b.total), "the refund reached Stripe: {refunds}");

    // Stripe confirms with charge.refunded (localstripe does not send it; we sign it as Stripe does).
    let event = json!({"id": format!("evt_{}", uuid::Uuid::new_v4().simple()), "object": "event", "type": "charge.refunded", "created": Utc::now().timestamp(),
        "data": {"object": {"id": "ch_test", "object": "charge", "payment_intent": intent, "amount_refunded": b.total, "currency": "eur"}}}).to_string();
    assert_eq!(post_webhook(&event, &signed(&event, &dev_secret("webhook_secret"))).await.0, 200);
    let refunded =
        eventually_booking(&b, "the refund to be confirmed", |v| v["payment"]["refund_status"] == "refunded").await;
    assert_eq!(refunded["payment"]["refunded_amount"].as_i64(), Some(b.total));
}

/// How much of the rental a policy gives back at the time of cancelling.
#[derive(Clone, Copy)]
enum Back {
    All,
    Half,
    Nothing,
}

/// Books under `policy` `start` days ahead, pays, and cancels as the renter: the booking showed
/// what cancelling would refund, and exactly that was refunded at Stripe.
async fn cancel_under(policy: &str, start: i64, back: Back) {
    let b = booked_under(start, policy).await;
    let intent = pay(&b).await["payment_intent_id"].as_str().unwrap().to_owned();
    assert_eq!(confirm_with(&intent, "pm_card_visa").await, 200);
    let confirmed = eventually_booking(&b, "the payment to confirm the booking", |v| v["status"] == "confirmed").await;
    let part = |name: &str| b.quote[name].as_i64().unwrap();
    let (rental, fee) = match back {
        Back::All => (part("rental"), part("service_fee")),
        Back::Half => ((part("rental") + 1) / 2, 0),
        Back::Nothing => (0, 0),
    };
    // The deposit was never charged (it is held on the card, decision 0040): none of it to refund.
    let expected = json!({"rental": rental, "service_fee": fee, "deposit": 0});
    let refund = rental + fee;
    // Shown while cancelling would give anything back.
    let shown = if refund > 0 { expected.clone() } else { Value::Null };
    assert_eq!(confirmed["refund_if_cancelled_now"], shown, "{policy}, {start} days ahead");

    let cancelled = cancel(&b, "Plans changed").await;
    assert_eq!(cancelled["payment"]["refund_amount"].as_i64(), Some(refund), "{policy}, {start} days: {cancelled}");
    assert_eq!(cancelled["payment"]["refund_plan"], expected, "{policy}");
    let refunds =
        get_json(&format!("{}/v1/refunds?payment_intent={intent}", local_stripe()), &dev_secret("secret_key")).await;
    let amounts: Vec<i64> = refunds["data"].as_array().unwrap().iter().filter_map(|r| r["amount"].as_i64()).collect();
    let at_stripe: &[i64] = if refund > 0 { &[refund] } else { &[] };
    assert_eq!(amounts, at_stripe, "one refund of that amount at Stripe, none of nothing ({policy})");
    assert!(booking(&b).await.get("refund_if_cancelled_now").is_none(), "nothing more to refund");
}

#[tokio::test]
async fn a_renters_cancellation_before_the_start_refunds_by_the_listings_policy() {
    // Rental 6,000 over 3 days; the fee comes back only with the whole rental.
    tokio::join!(
        cancel_under("flexible", 2, Back::All),
        cancel_under("moderate", 3, Back::Half),
        cancel_under("strict", 10, Back::Half),
        cancel_under("strict", 3, Back::Nothing),
    );
}

#[tokio::test]
async fn a_payment_after_the_renter_cancelled_is_refunded_in_full() {
    // The renter opened the payment, cancelled, and the card went through anyway (a slow
    // bank, a second tab): the payment worker refunds it, and the booking stays cancelled.
    let b = booked(25).await;
    let intent = pay(&b).await["payment_intent_id"].as_str().unwrap().to_owned();
    let cancelled = cancel(&b, "Found another bike").await;
    assert_eq!(cancelled["status"], "cancelled");

    assert_eq!(confirm_with(&intent, "pm_card_visa").await, 200);
    let refunded = eventually_booking(&b, "the late payment to be refunded", |v| {
        v["payment"]["refund_amount"].as_i64() == Some(b.total)
    })
    .await;
    assert_eq!(refunded["status"], "cancelled", "a late payment never revives a booking");
    let refunds =
        get_json(&format!("{}/v1/refunds?payment_intent={intent}", local_stripe()), &dev_secret("secret_key")).await;
    assert_eq!(refunds["data"].as_array().map(Vec::len), Some(1), "refunded once: {refunds}");
    assert_eq!(refunds["data"][0]["amount"].as_i64(), Some(b.total));
}

#[tokio::test]
async fn a_declined_card_is_recorded_and_the_booking_stays_payable() {
    let b = booked(30).await;
    let intent = pay(&b).await["payment_intent_id"].as_str().unwrap().to_owned();
    assert_eq!(confirm_with(&intent, "pm_card_chargeCustomerFail").await, 402);
    let failed = eventually_booking(&b, "the failure to be recorded", |v| v["payment"]["status"] == "failed").await;
    assert_eq!(failed["status"], "pending_payment", "still payable until the hold lapses");
    assert!(failed["payment"]["failure_code"].is_string());
    // The renter is told (in the app; send-email derives its e-mail from the same notification,
    // decision 0045), the owner is not.
    let told = |t: String| async move {
        let v = get_json(&format!("{}/me/notifications", env().api), &t).await;
        v["items"].as_array().map(|items| items.iter().filter(|n| n["type"] == "booking.payment_failed").count())
    };
    eventually(Duration::from_secs(30), "the renter told of the failure", || async {
        (told(b.renter.clone()).await == Some(1)).then_some(())
    })
    .await;
    assert_eq!(told(b.owner.clone()).await, Some(0));
}

#[tokio::test]
async fn one_event_posted_ten_times_at_once_has_one_effect_and_forgeries_none() {
    let b = booked(40).await;
    let intent = pay(&b).await["payment_intent_id"].as_str().unwrap().to_owned();
    let before = booking(&b).await;

    // A forged event (signed with the wrong secret) is refused and changes nothing.
    let forged = json!({"id": "evt_forged", "object": "event", "type": "payment_intent.succeeded", "created": Utc::now().timestamp(),
        "data": {"object": {"id": intent, "object": "payment_intent", "amount": b.total, "currency": "eur", "metadata": {"booking_id": b.id}}}}).to_string();
    let (status, body) = post_webhook(&forged, &signed(&forged, "whsec_not_ours")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("signature_mismatch")));
    let (status, _) = post_webhook(&forged, "t=1,v1=00").await;
    assert_eq!(status, 400);

    let event = json!({"id": format!("evt_{}", uuid::Uuid::new_v4().simple()), "object": "event", "type": "payment_intent.succeeded", "created": Utc::now().timestamp(),
        "data": {"object": {"id": intent, "object": "payment_intent", "amount": b.total, "currency": "eur", "metadata": {"booking_id": b.id}}}}).to_string();
    let signature = signed(&event, &dev_secret("webhook_secret"));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (event, signature) = (event.clone(), signature.clone());
        tasks.spawn(async move { post_webhook(&event, &signature).await });
    }
    let mut queued = 0;
    while let Some(r) = tasks.join_next().await {
        let (status, body) = r.unwrap();
        assert_eq!(status, 200, "{body}");
        if body["queued"] == true {
            queued += 1;
        }
    }
    assert_eq!(queued, 1, "recorded and queued once");
    let confirmed = eventually_booking(&b, "confirmation", |v| v["status"] == "confirmed").await;
    assert_eq!(confirmed["version"].as_i64(), Some(before["version"].as_i64().unwrap() + 1), "one effect");
    let kinds = eventually(Duration::from_secs(30), "the confirmation notice", || async {
        let v: Value =
            http().get(env().url("/me/notifications")).bearer_auth(&b.renter).send().await.ok()?.json().await.ok()?;
        let kinds: Vec<String> =
            v["items"].as_array()?.iter().map(|n| n["type"].as_str().unwrap_or_default().to_owned()).collect();
        kinds.contains(&"booking.confirmed".to_owned()).then_some(kinds)
    })
    .await;
    assert_eq!(kinds.iter().filter(|k| *k == "booking.confirmed").count(), 1);
}

#[tokio::test]
async fn an_event_that_cannot_be_queued_is_forgotten_so_the_retry_is_processed() {
    // A stack of its own, whose payments queue goes away: the webhook answers 5xx and forgets
    // the event, so Stripe's retry (once the queue is back) is queued, not taken as a repeat.
    let runner = PrivateRunner::start("webhook-queue").await;
    let config = integration_tests::aws_config(&env().aws_endpoint).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue_url = runner.reference("PaymentsQueue");
    let queue_name = queue_url.rsplit('/').next().unwrap().to_owned();
    sqs.delete_queue().queue_url(&queue_url).send().await.expect("deleting the private stack's queue");

    let id = format!("evt_{}", uuid::Uuid::new_v4().simple());
    let event = json!({"id": id, "object": "event", "type": "charge.refunded", "created": Utc::now().timestamp(),
        "data": {"object": {"id": "ch_test", "object": "charge", "payment_intent": "pi_unknown", "amount_refunded": 100, "currency": "eur"}}}).to_string();
    let post = || async {
        http()
            .post(format!("{}/webhooks/stripe", runner.api))
            .header("stripe-signature", signed(&event, &dev_secret("webhook_secret")))
            .header("content-type", "application/json")
            .body(event.clone())
            .send()
            .await
            .unwrap()
    };
    let failed = post().await;
    assert!(failed.status().is_server_error(), "not queued is a fault Stripe retries: {}", failed.status());
    let db = aws_sdk_dynamodb::Client::new(&config);
    let record = db
        .get_item()
        .table_name(runner.reference("Table"))
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("STRIPE_EVENT#{id}")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S("STRIPE_EVENT".into()))
        .send()
        .await
        .unwrap();
    assert!(record.item.is_none(), "the unqueued event was forgotten");
    // The Connect endpoint's receiver is the same: a Connect event is forgotten alike.
    let connect_id = format!("evt_{}", uuid::Uuid::new_v4().simple());
    let connect_event = json!({"id": connect_id, "object": "event", "type": "account.updated", "account": "acct_none",
        "created": Utc::now().timestamp(), "data": {"object": {"id": "acct_none", "object": "account", "country": "DE"}}})
    .to_string();
    let failed = http()
        .post(format!("{}/webhooks/stripe-connect", runner.api))
        .header("stripe-signature", signed(&connect_event, &integration_tests::connect_webhook_secret()))
        .header("content-type", "application/json")
        .body(connect_event.clone())
        .send()
        .await
        .unwrap();
    assert!(failed.status().is_server_error(), "{}", failed.status());
    let record = db
        .get_item()
        .table_name(runner.reference("Table"))
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("STRIPE_EVENT#{connect_id}")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S("STRIPE_EVENT".into()))
        .send()
        .await
        .unwrap();
    assert!(record.item.is_none(), "the unqueued Connect event was forgotten");

    sqs.create_queue()
        .queue_name(&queue_name)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("the queue back");
    let retried = post().await;
    assert_eq!(retried.status(), 200);
    assert_eq!(retried.json::<Value>().await.unwrap()["queued"], true, "the retry is queued, not a repeat");
}

/// Waits until the owner's earnings list the booking: the worker schedules its payout in a
/// write after the one that confirms it.
async fn eventually_scheduled(b: &Booked) {
    eventually(Duration::from_secs(20), "the payout to be scheduled", || async {
        let v = get_json(&env().url("/me/earnings"), &b.owner).await;
        v["items"].as_array()?.iter().any(|i| i["booking_id"] == b.id.as_str()).then_some(())
    })
    .await;
}

/// Runs the payout task of the shared stack as if its clock read `at`.
async fn run_payouts(at: chrono::DateTime<Utc>) -> Value {
    run_scheduled(&env().api, "TransferPayoutsFunction", at).await
}

/// The transfers Stripe holds for booking `id` (its transfer group).
async fn transfers_of(id: &str) -> Vec<Value> {
    let v = get_json(&format!("{}/v1/transfers?transfer_group={id}", local_stripe()), &dev_secret("secret_key")).await;
    v["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_disabled_account_blocks_the_transfer_until_stripe_enables_it_again() {
    // Due 3 days from now, before the payout test's booking: this test's runs of the shared
    // task never move that one early (they may settle other tests' earlier payouts, which
    // assert nothing about transfers), and this owner's account decides here, not the timing.
    let b = booked(2).await;
    let disabled = integration_tests::fail_verification(&b.owner).await;
    assert_eq!(disabled["requirements"]["disabled_reason"], "requirements.past_due");
    let intent = pay(&b).await["payment_intent_id"].as_str().unwrap().to_owned();
    assert_eq!(confirm_with(&intent, "pm_card_visa").await, 200);
    eventually_booking(&b, "the payment to confirm the booking", |v| v["status"] == "confirmed").await;
    eventually_scheduled(&b).await;
    let due = day(2).and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::hours(24);

    // Due, but the account cannot receive transfers: the payout waits, blocked, still owed.
    run_payouts(due + chrono::Duration::hours(1)).await;
    assert!(transfers_of(&b.id).await.is_empty(), "no transfer to a disabled account");
    let earning = get_json(&env().url("/me/earnings"), &b.owner).await["items"][0].clone();
    assert_eq!(
        (earning["booking_id"].as_str(), earning["status"].as_str(), earning["blocked_reason"].as_str()),
        (Some(b.id.as_str()), Some("blocked"), Some("payouts_disabled")),
        "{earning}"
    );

    // The owner completes verification on a new link: the next run transfers, once.
    let account = integration_tests::onboard(&b.owner).await;
    run_payouts(due + chrono::Duration::hours(2)).await;
    run_payouts(due + chrono::Duration::hours(3)).await;
    let transfers = transfers_of(&b.id).await;
    assert_eq!(transfers.len(), 1, "{transfers:?}");
    assert_eq!(
        (transfers[0]["amount"].as_i64(), transfers[0]["destination"].as_str()),
        (earning["net"].as_i64(), Some(account.as_str()))
    );
    let earning = get_json(&env().url("/me/earnings"), &b.owner).await["items"][0].clone();
    assert_eq!(earning["status"], "transferred", "{earning}");
}

#[tokio::test]
async fn the_owner_is_paid_once_after_the_start_and_their_cancellation_reverses_it() {
    let b = booked(5).await;
    let account = integration_tests::onboard(&b.owner).await;
    let intent = pay(&b).await["payment_intent_id"].as_str().unwrap().to_owned();
    assert_eq!(confirm_with(&intent, "pm_card_visa").await, 200);
    let confirmed = eventually_booking(&b, "the payment to confirm the booking", |v| v["status"] == "confirmed").await;
    eventually_scheduled(&b).await;
    let rental = confirmed["quote"]["rental"].as_i64().unwrap();
    let share = rental - (rental * 300 + 5_000) / 10_000;
    let due = day(5).and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::hours(24);

    run_payouts(due - chrono::Duration::hours(1)).await;
    assert!(transfers_of(&b.id).await.is_empty(), "nothing before the start + 24 h");
    // Two runs at once, after it is due: one transfer of the owner's share, to their account.
    let later = due + chrono::Duration::hours(1);
    tokio::join!(run_payouts(later), run_payouts(later));
    let transfers = transfers_of(&b.id).await;
    assert_eq!(transfers.len(), 1, "exactly one transfer: {transfers:?}");
    assert_eq!(
        (transfers[0]["amount"].as_i64(), transfers[0]["destination"].as_str(), transfers[0]["currency"].as_str()),
        (Some(share), Some(account.as_str()), Some("eur"))
    );
    assert!(transfers[0]["source_transaction"].as_str().unwrap().starts_with("ch_"), "drawn on the renter's charge");
    let shown = get_json(&env().url("/me/earnings"), &b.owner).await;
    assert_eq!(
        (
            shown["items"][0]["booking_id"].as_str(),
            shown["items"][0]["status"].as_str(),
            shown["items"][0]["net"].as_i64()
        ),
        (Some(b.id.as_str()), Some("transferred"), Some(share)),
        "{shown}"
    );
    assert_eq!(shown["totals"][0]["paid_out"].as_i64(), Some(share));

    // Stripe pays the owner's balance out to their bank: the owner sees it.
    let paid = http()
        .post(format!("{}/_config/connect/accounts/{account}/payouts", local_stripe()))
        .json(&json!({"amount": share, "currency": "eur", "outcome": "paid"}))
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_success());
    let payouts = eventually(Duration::from_secs(20), "payout.paid under /me/payouts", || async {
        let v = get_json(&env().url("/me/payouts"), &b.owner).await;
        (v["items"].as_array()?.len() == 1).then_some(v)
    })
    .await;
    assert_eq!(
        (payouts["items"][0]["amount"].as_i64(), payouts["items"][0]["status"].as_str()),
        (Some(share), Some("paid"))
    );
    run_payouts(later + chrono::Duration::hours(1)).await;
    assert_eq!(transfers_of(&b.id).await.len(), 1, "a later run transfers nothing more");

    // The owner cancels after the transfer: the renter gets everything back, and the transfer
    // is reversed, so the platform never refunds money it already paid out.
    let resp = http()
        .post(format!("{}/bookings/{}/cancel", env().api, b.id))
        .bearer_auth(&b.owner)
        .json(&json!({"reason": "The bike broke"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cancelled: Value = resp.json().await.unwrap();
    assert_eq!(cancelled["payment"]["refund_amount"].as_i64(), Some(b.total), "an owner's cancellation refunds all");
    run_payouts(later + chrono::Duration::hours(2)).await;
    run_payouts(later + chrono::Duration::hours(3)).await;
    let transfers = transfers_of(&b.id).await;
    assert_eq!(transfers[0]["amount_reversed"].as_i64(), Some(share), "reversed once, in full: {transfers:?}");
    assert_eq!(transfers[0]["reversals"]["total_count"], 1);
    let shown = get_json(&env().url("/me/earnings"), &b.owner).await;
    assert_eq!((shown["items"][0]["status"].as_str(), shown["items"][0]["net"].as_i64()), (Some("reversed"), Some(0)));
    let seen = get_json(&format!("{}/bookings/{}", env().api, b.id), &b.owner).await;
    assert_eq!(
        (
            seen["money"]["transfer_status"].as_str(),
            seen["money"]["transferred"].as_i64(),
            seen["money"]["reversed"].as_i64()
        ),
        (Some("reversed"), Some(share), Some(share)),
        "{seen}"
    );
    assert_eq!(booking(&b).await["money"]["paid"].as_i64(), Some(b.total), "the renter sees what they paid");
}
