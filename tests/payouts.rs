//! Owners' payout accounts through the gateway, the real functions and the local Stripe's
//! Connect emulation: opened once (also under concurrency), a fresh Stripe-hosted onboarding
//! link each call, the account's state as Stripe reported it, and bad input refused.

use integration_tests::{env, http, new_user, token};
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
