//! Owners' payout accounts through the gateway, the real functions and the local Stripe's
//! Connect emulation: opened once (also under concurrency), a fresh Stripe-hosted onboarding
//! link each call, the account's state as Stripe reported it (through the Connect webhook),
//! forged, expired, replayed and stale Connect events changing nothing, the owner told when
//! transfers stop or start and when a payout to their bank fails, and bad input refused.

use integration_tests::{
    connect_webhook_secret, env, eventually, fail_verification, get_json, http, local_stripe, new_user, onboard,
    stripe_signature, token,
};
use serde_json::{json, Value};

async fn open(token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = http().post(env().url("/me/payout-account")).bearer_auth(token);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn an_owner_opens_one_account_and_onboards_on_stripes_page() {
    let owner = token(&new_user()).await;
    let resp = http().get(env().url("/me/payout-account")).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(resp.status(), 404, "nothing before it is opened");

    // Two first calls at once open one account.
    let (a, b) =
        tokio::join!(open(&owner, Some(json!({"country": "DE"}))), open(&owner, Some(json!({"country": "DE"}))));
    assert!([a.0, b.0].contains(&201) && [a.0, b.0].iter().all(|s| [200, 201].contains(s)), "{a:?} {b:?}");
    assert_eq!(a.1["account"]["id"], b.1["account"]["id"], "one account");
    let account = a.1["account"]["id"].as_str().unwrap().to_owned();
    assert!(account.starts_with("acct_"));
    assert_eq!(
        (a.1["account"]["can_receive_transfers"].as_bool(), a.1["account"]["country"].as_str()),
        (Some(false), Some("DE"))
    );

    // A later call without a body: a fresh link for the same account.
    let (status, again) = open(&owner, None).await;
    assert_eq!((status, again["account"]["id"].as_str()), (200, Some(account.as_str())));
    assert_ne!(again["onboarding_url"], a.1["onboarding_url"], "each call a fresh link");

    // The link opens the (local) Stripe-hosted onboarding page.
    let page = http().get(again["onboarding_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&account));

    let shown: Value =
        http().get(env().url("/me/payout-account")).bearer_auth(&owner).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["id"], account.as_str());
    assert!(shown["requirements"]["currently_due"].as_array().unwrap().iter().any(|f| f == "external_account"));
    assert_eq!(shown["requirements"]["disabled_reason"], "requirements.past_due");
}

#[tokio::test]
async fn bad_input_is_a_clear_400_and_opens_nothing() {
    let owner = token(&new_user()).await;
    for (body, field) in [
        (None, "country"),
        (Some(json!({"country": "KP"})), "country"),
        (Some(json!({"country": "Germany"})), "country"),
    ] {
        let (status, problem) = open(&owner, body.clone()).await;
        assert_eq!(status, 400, "{body:?}");
        assert_eq!(problem["errors"][0]["field"], field, "{body:?}: {problem}");
    }
    let (status, problem) = open(&owner, Some(json!({"country": "DE", "iban": "DE00"}))).await;
    assert_eq!(status, 400, "{problem}");
    let resp = http().get(env().url("/me/payout-account")).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(resp.status(), 404, "nothing opened");
}

async fn deliver(signature: &str, body: &str) -> (u16, Value) {
    integration_tests::post_signed("/webhooks/stripe-connect", signature, body).await
}

async fn shown(owner: &str) -> Value {
    get_json(&env().url("/me/payout-account"), owner).await
}

#[tokio::test]
async fn connect_events_verify_apply_once_and_newest_wins() {
    let owner = token(&new_user()).await;
    let account = onboard(&owner).await;
    let before = shown(&owner).await;
    assert_eq!(before["can_receive_transfers"], true);

    // Stripe disables payouts (an account update through Stripe's own delivery)...
    let disabled = fail_verification(&owner).await;
    assert_eq!(disabled["requirements"]["disabled_reason"], "requirements.past_due");

    // ...and an event of ours claims it is enabled again.
    let now = chrono::Utc::now().timestamp();
    let event = |id: &str, created: i64, enabled: bool| {
        json!({"id": id, "object": "event", "type": "account.updated", "account": account, "created": created,
            "data": {"object": {"id": account, "object": "account", "country": "DE", "details_submitted": true,
                "charges_enabled": enabled, "payouts_enabled": enabled,
                "capabilities": {"transfers": if enabled { "active" } else { "inactive" }},
                "requirements": {"currently_due": [], "past_due": [], "disabled_reason": null}}}})
        .to_string()
    };
    let secret = connect_webhook_secret();
    let body = event(&format!("evt_{}", new_user().replace('-', "")), now + 5, true);
    let platform_secret = "whsec_local_runner_only_current";
    for (signature, code) in [
        (stripe_signature("whsec_forged", now, &body), "signature_mismatch"),
        (stripe_signature(platform_secret, now, &body), "signature_mismatch"),
        (stripe_signature(&secret, now - 3_600, &body), "signature_expired"),
    ] {
        let (status, problem) = deliver(&signature, &body).await;
        assert_eq!((status, problem["code"].as_str()), (400, Some(code)), "{problem}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(shown(&owner).await["can_receive_transfers"], false, "refused events change nothing");

    // Verified: applied once; its replay is acknowledged as a duplicate.
    assert_eq!(
        deliver(&stripe_signature(&secret, now, &body), &body).await,
        (200, json!({"received": true, "queued": true}))
    );
    assert_eq!(
        deliver(&stripe_signature(&secret, now, &body), &body).await,
        (200, json!({"received": true, "duplicate": true}))
    );
    eventually(std::time::Duration::from_secs(20), "the verified event applied", || {
        let owner = owner.clone();
        async move { Some(shown(&owner).await).filter(|a| a["can_receive_transfers"] == true) }
    })
    .await;

    // An older report, delivered late, does not overwrite the newer one.
    let stale = event(&format!("evt_{}", new_user().replace('-', "")), now - 60, false);
    assert_eq!(deliver(&stripe_signature(&secret, now, &stale), &stale).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(shown(&owner).await["can_receive_transfers"], true, "newest report wins");

    // A payout to the owner's bank fails: it shows under /me/payouts.
    let failed = http()
        .post(format!("{}/_config/connect/accounts/{account}/payouts", local_stripe()))
        .json(&json!({"amount": 4250, "currency": "eur", "outcome": "failed"}))
        .send()
        .await
        .unwrap();
    assert!(failed.status().is_success());
    let payouts = eventually(std::time::Duration::from_secs(20), "payout.failed under /me/payouts", || {
        let owner = owner.clone();
        async move { Some(get_json(&env().url("/me/payouts"), &owner).await).filter(|v| v["items"][0].is_object()) }
    })
    .await;
    assert_eq!(
        (payouts["items"][0]["status"].as_str(), payouts["items"][0]["amount"].as_i64()),
        (Some("failed"), Some(4250))
    );

    // The owner was told, newest first: the failed payout; transfers ready again; paused for a
    // document; ready after onboarding. Not of the refused, replayed or stale events.
    let told = eventually(std::time::Duration::from_secs(20), "the owner's notifications", || {
        let owner = owner.clone();
        async move {
            let v = get_json(&env().url("/me/notifications"), &owner).await;
            let items = v["items"].as_array()?.clone();
            (items.len() >= 4 && items[0]["type"] == "user.payout_failed").then_some(items)
        }
    })
    .await;
    let kinds: Vec<&str> = told.iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "user.payout_failed",
            "user.payout_account_updated",
            "user.payout_account_updated",
            "user.payout_account_updated"
        ]
    );
    let text = |i: usize| told[i]["text"].as_str().unwrap();
    assert!(text(0).contains("42.50 EUR") && text(0).contains("account closed"), "{}", text(0));
    assert!(text(1).contains("is ready") && text(3).contains("is ready"), "{told:?}");
    assert!(text(2).contains("paused") && text(2).contains("an identity document"), "{}", text(2));
    assert!(told.iter().all(|n| n.get("booking_id").is_none()), "about no booking");
}
