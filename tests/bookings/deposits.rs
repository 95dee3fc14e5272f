//! Deposits held on the renter's card (decision 0040), end to end on a private stack with the
//! local Stripe: the rental paid without the deposit and the card saved; the hold placed at
//! payment when the start is near, else by the deposit task a lead before; released when no
//! claim came by the window's close, or partly captured for a late return; a refused hold
//! replaced by the renter's other card; a lapsed hold asked for again; a long stay's hold
//! renewed before it lapses, the new one authorized before the old one is cancelled.

use super::*;
use integration_tests::{dev_secret, local_stripe};
use shared::domain::booking::{Booking, BookingId};
use shared::domain::deposit::Deposit;
use shared::ports::{BookingReader, BookingWriter, DepositStore};

/// The private stack's table, as its functions see it.
async fn table(runner: &PrivateRunner) -> shared::adapters::dynamodb::DynamoTable {
    let config = aws_config(&env().aws_endpoint).await;
    shared::adapters::dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), runner.reference("Table"))
}

pub(super) async fn stored_deposit(runner: &PrivateRunner, id: &str) -> Deposit {
    let id = BookingId::parse(id).unwrap();
    table(runner).await.get_deposit(&id).await.unwrap().expect("the booking's deposit")
}

/// A call to the local Stripe with the platform's key: GET without a form, else POST.
pub(super) async fn stripe(path: &str, form: &[(&str, &str)]) -> Value {
    let url = format!("{}{path}", local_stripe());
    let req = if form.is_empty() { http().get(url) } else { http().post(url).form(form) };
    send_to_stripe(req, path).await
}

/// A POST to the local Stripe without parameters.
async fn stripe_post(path: &str) -> Value {
    send_to_stripe(http().post(format!("{}{path}", local_stripe())), path).await
}

async fn send_to_stripe(req: reqwest::RequestBuilder, path: &str) -> Value {
    let resp = req.bearer_auth(dev_secret("StripeSecret", "secret_key")).send().await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

/// The renter pays with `card` through Stripe.js (authenticating when the card asks);
/// returns once the booking is confirmed.
pub(super) async fn pay(api: &str, renter: &str, id: &str, card: &str) {
    let start: Value = act(api, renter, id, "payment", None).await.json().await.unwrap();
    assert_eq!(start["amount"], 3 * 1250 + 375, "the rental and the fee, not the deposit: {start}");
    confirm_card(start["payment_intent_id"].as_str().unwrap(), card).await;
    eventually(Duration::from_secs(30), "the payment to confirm the booking", || async {
        (get(api, renter, id).await["status"] == "confirmed").then_some(())
    })
    .await;
}

/// What Stripe.js does: the card on the intent, then confirm (and a 3-D Secure check passed).
async fn confirm_card(intent: &str, card: &str) {
    stripe(&format!("/v1/payment_intents/{intent}"), &[("payment_method", card)]).await;
    let confirmed = stripe_post(&format!("/v1/payment_intents/{intent}/confirm")).await;
    if confirmed["status"] == "requires_action" {
        let secret = confirmed["client_secret"].as_str().unwrap();
        let path = format!("/v1/payment_intents/{intent}/_authenticate");
        stripe(&path, &[("client_secret", secret), ("success", "true")]).await;
    }
}

pub(super) async fn get(api: &str, token: &str, id: &str) -> Value {
    http().get(format!("{api}/bookings/{id}")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

pub(super) async fn deposit_becomes(api: &str, token: &str, id: &str, status: &str) -> Value {
    eventually(Duration::from_secs(30), &format!("the deposit to be {status}"), || async {
        let v = get(api, token, id).await;
        (v["deposit"]["status"] == status).then_some(v["deposit"].clone())
    })
    .await
}

pub(super) async fn booked(api: &str, renter: &str, listing: &str, from: i64, to: i64) -> String {
    let v: Value = book(api, renter, listing, day(from), day(to), None).await.json().await.unwrap();
    v["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_owned()
}

/// `token`'s notifications of `kind`, once there are `count` (they are written asynchronously).
pub(super) async fn notified(api: &str, token: &str, kind: &str, count: usize) -> Vec<Value> {
    let mine = || async {
        let page = get_json(&format!("{api}/me/notifications"), token).await;
        let found: Vec<Value> = page["items"].as_array()?.iter().filter(|n| n["type"] == kind).cloned().collect();
        (found.len() >= count).then_some(found)
    };
    let found = eventually(Duration::from_secs(30), &format!("{count} {kind} notifications"), mine).await;
    assert_eq!(found.len(), count, "{kind}: {found:?}");
    found
}

pub(super) async fn get_json(url: &str, token: &str) -> Value {
    integration_tests::get_json(url, token).await
}

/// Returned `late_days` late: the return is stamped with the real clock (no override for API
/// calls), so the test writes the late fee the return would have counted.
async fn returned_late(runner: &PrivateRunner, id: &str, late_days: i64) {
    let store = table(runner).await;
    let current: Booking = store.get_booking(&BookingId::parse(id).unwrap()).await.unwrap().unwrap();
    let mut next = current.clone();
    (next.handover.late_days, next.handover.late_fee) = (late_days, late_days * current.quote.daily_price);
    next.version += 1;
    store.move_booking(&current, &next, None).await.unwrap();
}

#[tokio::test]
async fn held_before_the_stay_then_released_or_taken_for_a_late_return() {
    let runner = PrivateRunner::start("deposits").await;
    let api = runner.api.clone();
    let [owner, renter] =
        [token_for(&api, json!({"sub": new_user()})).await, token_for(&api, json!({"sub": new_user()})).await];
    let (tent, stove, bike) = (
        listing(&api, &owner, "instant", 10).await,
        listing(&api, &owner, "instant", 10).await,
        listing(&api, &owner, "instant", 10).await,
    );

    // Starts tomorrow: the hold is placed at payment (the lead has begun).
    let soon = booked(&api, &renter, &tent, 1, 4).await;
    pay(&api, &renter, &soon, "pm_card_visa").await;
    let held = deposit_becomes(&api, &renter, &soon, "held").await;
    assert_eq!((held["amount"].as_i64(), held["captured"].as_i64()), (Some(5000), Some(0)));
    assert_eq!(get(&api, &renter, &soon).await["money"]["deposit_held"], 5000);
    let hold = stored_deposit(&runner, &soon).await.hold.expect("a hold in force").intent_id;
    let at_stripe = stripe(&format!("/v1/payment_intents/{hold}"), &[]).await;
    assert_eq!(
        (at_stripe["status"].as_str(), at_stripe["amount_capturable"].as_i64(), at_stripe["capture_method"].as_str()),
        (Some("requires_capture"), Some(5000), Some("manual")),
        "authorized on the saved card, not charged"
    );
    notified(&api, &owner, "booking.deposit_held", 1).await;

    // Starts in 4 days: scheduled, then held by the deposit task 24 h before the start (before
    // the first hold falls due for renewal).
    let later = booked(&api, &renter, &stove, 4, 7).await;
    pay(&api, &renter, &later, "pm_card_visa").await;
    assert_eq!(deposit_becomes(&api, &renter, &later, "scheduled").await["hold_at"], format!("{}T00:00:00Z", day(3)));
    let task = |at| run_scheduled(&api, "HoldDepositsFunction", at);
    let lead = day(3).and_hms_opt(0, 0, 0).unwrap().and_utc();
    assert_eq!(task(lead - chrono::Duration::minutes(1)).await["due"], 0);
    assert_eq!(task(lead).await["held"], 1);
    deposit_becomes(&api, &renter, &later, "held").await;

    // Picked up, returned on time: released once the claim window closed, then completed.
    let late = booked(&api, &renter, &bike, 1, 4).await;
    pay(&api, &renter, &late, "pm_card_visa").await;
    deposit_becomes(&api, &renter, &late, "held").await;
    for id in [&soon, &late] {
        let code = get(&api, &renter, id).await["handover"]["code"].as_str().unwrap().to_owned();
        assert_eq!(act(&api, &owner, id, "pickup", Some(json!({ "code": code }))).await.status(), 200);
        assert_eq!(act(&api, &owner, id, "return", Some(json!({}))).await.status(), 200);
    }
    returned_late(&runner, &late, 2).await;
    let complete = |at| run_scheduled(&api, "CompleteBookingsFunction", at);
    assert_eq!(complete(Utc::now() + chrono::Duration::hours(47)).await["completed"], 0, "the claim window is open");
    assert_eq!(get(&api, &renter, &soon).await["deposit"]["status"], "held", "kept while an owner may claim");
    let run = complete(Utc::now() + chrono::Duration::hours(49)).await;
    assert_eq!(run["completed"], 2, "{run}");
    let released = get(&api, &renter, &soon).await;
    assert_eq!(
        (released["status"].as_str(), released["deposit"]["status"].as_str()),
        (Some("completed"), Some("released"))
    );
    assert_eq!(released["money"]["deposit_held"], 0);
    assert_eq!(stripe(&format!("/v1/payment_intents/{hold}"), &[]).await["status"], "canceled", "nothing taken");

    // Two started days late at 12.50: 25.00 taken from the hold, the rest released.
    let taken = get(&api, &renter, &late).await["deposit"].clone();
    assert_eq!((taken["status"].as_str(), taken["captured"].as_i64()), (Some("captured"), Some(2500)));
    let late_hold = stored_deposit(&runner, &late).await.hold.unwrap().intent_id;
    let at_stripe = stripe(&format!("/v1/payment_intents/{late_hold}"), &[]).await;
    assert_eq!((at_stripe["status"].as_str(), at_stripe["amount_received"].as_i64()), (Some("succeeded"), Some(2500)));
    let told = notified(&api, &renter, "booking.deposit_captured", 1).await;
    assert!(told[0]["text"].as_str().unwrap().contains("25.00"), "{told:?}");
    notified(&api, &renter, "booking.deposit_released", 1).await;

    // A repeated run settles nothing twice.
    assert_eq!(complete(Utc::now() + chrono::Duration::hours(50)).await["completed"], 0);
    assert_eq!(stripe(&format!("/v1/payment_intents/{late_hold}"), &[]).await["amount_received"], 2500);
}

#[tokio::test]
async fn a_refused_hold_is_replaced_by_another_card_and_a_lapsed_one_asked_for_again() {
    let runner = PrivateRunner::start("deposit-cards").await;
    let api = runner.api.clone();
    let [owner, renter] =
        [token_for(&api, json!({"sub": new_user()})).await, token_for(&api, json!({"sub": new_user()})).await];
    let tent = listing(&api, &owner, "instant", 10).await;
    let id = booked(&api, &renter, &tent, 1, 4).await;

    // This card passed 3-D Secure for the rental, but asks again every time: off-session it cannot.
    pay(&api, &renter, &id, "pm_card_authenticationRequired").await;
    let failed = deposit_becomes(&api, &renter, &id, "failed").await;
    assert_eq!(failed["failure_code"], "authentication_required");
    notified(&api, &renter, "booking.deposit_failed", 1).await;
    let owner_told = notified(&api, &owner, "booking.deposit_failed", 1).await;
    assert!(owner_told[0]["text"].as_str().unwrap().contains("you may cancel"), "{owner_told:?}");

    // The renter confirms a hold with another card; the owner may not ask for one.
    assert_eq!(act(&api, &owner, &id, "deposit", None).await.status(), 403);
    let first: Value = act(&api, &renter, &id, "deposit", None).await.json().await.unwrap();
    let again: Value = act(&api, &renter, &id, "deposit", None).await.json().await.unwrap();
    assert_eq!(first["payment_intent_id"], again["payment_intent_id"], "one hold to confirm");
    assert_eq!((first["amount"].as_i64(), first["currency"].as_str()), (Some(5000), Some("EUR")));
    let replacement = first["payment_intent_id"].as_str().unwrap().to_owned();
    confirm_card(&replacement, "pm_card_visa").await;
    deposit_becomes(&api, &renter, &id, "held").await;
    assert_eq!(stored_deposit(&runner, &id).await.hold.unwrap().intent_id, replacement);
    let resp = act(&api, &renter, &id, "deposit", None).await;
    assert_eq!((resp.status().as_u16(), code_of(resp).await), (409, "deposit_not_needed".to_owned()));

    // The authorization lapses (Stripe's payment_intent.canceled): the renter is asked again.
    stripe_post(&format!("/_config/payment_intents/{replacement}/lapse")).await;
    let lapsed = deposit_becomes(&api, &renter, &id, "failed").await;
    assert_eq!(lapsed["failure_code"], "hold_lapsed");
    assert_eq!(act(&api, &renter, &id, "deposit", None).await.status(), 200);
}

#[tokio::test]
async fn a_long_stays_hold_is_renewed_before_it_lapses_new_before_old() {
    let runner = PrivateRunner::start("deposit-renewal").await;
    let api = runner.api.clone();
    let [owner, renter] =
        [token_for(&api, json!({"sub": new_user()})).await, token_for(&api, json!({"sub": new_user()})).await];
    let tent = listing(&api, &owner, "instant", 14).await;
    // Ten days from tomorrow: the hold must outlive its authorization (5 days for Visa off-session).
    let id = booked(&api, &renter, &tent, 1, 11).await;
    let start: Value = act(&api, &renter, &id, "payment", None).await.json().await.unwrap();
    confirm_card(start["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await;
    deposit_becomes(&api, &renter, &id, "held").await;
    let first = stored_deposit(&runner, &id).await.hold.unwrap();

    let task = |at| run_scheduled(&api, "HoldDepositsFunction", at);
    assert_eq!(task(first.authorized_at + chrono::Duration::days(3)).await["due"], 0, "not yet");
    let run = task(first.authorized_at + chrono::Duration::days(4)).await;
    assert_eq!(run["held"], 1, "{run}");
    let renewed = stored_deposit(&runner, &id).await;
    let second = renewed.hold.clone().unwrap().intent_id;
    assert_ne!(second, first.intent_id);
    assert_eq!((renewed.replaced_intent, renewed.holds_placed), (None, 2));
    let (old, new) = (
        stripe(&format!("/v1/payment_intents/{}", first.intent_id), &[]).await,
        stripe(&format!("/v1/payment_intents/{second}"), &[]).await,
    );
    assert_eq!((old["status"].as_str(), new["status"].as_str()), (Some("canceled"), Some("requires_capture")));
    assert!(new["created"].as_i64() <= old["canceled_at"].as_i64(), "the new hold first: {new} {old}");
    assert_eq!(get(&api, &renter, &id).await["deposit"]["status"], "held", "never a moment without one");
    notified(&api, &renter, "booking.deposit_held", 1).await;
}

pub(super) async fn code_of(resp: reqwest::Response) -> String {
    resp.json::<Value>().await.unwrap()["code"].as_str().unwrap_or_default().to_owned()
}
