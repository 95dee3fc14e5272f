//! Payout benchmark: one run of `transfer-payouts` (release build, started by
//! `scripts/bench-payouts`) settling N due payouts, each drawn on its own succeeded charge at the
//! local Stripe, to one onboarded owner. Payouts are stored through the DynamoDB adapter itself
//! (`save_payout`), as the payment worker stores them; their bookings are not, so the task's
//! read of each booking finds nothing (the same one GetItem either way). Prints the run's
//! duration against the function's 300 s timeout, and checks every payout was transferred once
//! (at Stripe: one transfer in each booking's group).
//!
//! Usage: bench-payouts API_URL STRIPE_URL RESOURCES_JSON N STRIPE_DELAY_MS  (N <= 1,000: one
//! run settles at most 1,000 payouts)

use std::time::{Duration, Instant};

use chrono::Utc;
use integration_tests::{aws_config, http, new_user, onboard_on, token_for};
use serde_json::{json, Value};
use shared::adapters::dynamodb::DynamoTable;
use shared::domain::payout::Payout;
use shared::domain::user::UserId;
use shared::ports::PayoutStore;
use tokio::task::JoinSet;

/// Seeding calls in flight at once (charges at the local Stripe, payouts into moto).
const SEEDERS: usize = 8;
const TIMEOUT_SECS: f64 = 300.0;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, api, stripe, resources, n, delay] = &args[..] else {
        panic!("usage: bench-payouts API_URL STRIPE_URL RESOURCES_JSON N STRIPE_DELAY_MS");
    };
    let n: usize = n.parse().expect("N");
    assert!((1..=1_000).contains(&n), "N must be 1-1000: one run settles at most 1,000 payouts");
    let resources: Value = serde_json::from_str(&std::fs::read_to_string(resources).expect("resources")).expect("JSON");
    let table = resources["resources"]["Table"]["ref"].as_str().expect("the table").to_owned();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let store = DynamoTable::new(aws_sdk_dynamodb::Client::new(&aws_config(&endpoint).await), table);

    let owner = new_user();
    let owner_token =
        token_for(api, json!({"sub": owner, "name": "Bench owner", "email": format!("{owner}@example.test")})).await;
    let account = onboard_on(api, &owner_token).await;
    let owner = UserId::parse(&owner).expect("a user id");

    let started = Instant::now();
    let charges = seed(n, {
        let stripe = stripe.clone();
        move |_| charge(stripe.clone())
    })
    .await;
    let now = Utc::now();
    let payouts: Vec<Payout> = charges
        .into_iter()
        .enumerate()
        .map(|(i, charge)| {
            let mut booking = shared::testing::confirmed_booking("2026-12-10", 3, 4_000).expect("a booking");
            booking.owner_id = owner.clone();
            let mut p = Payout::schedule(&booking, charge, 24, now);
            // Due over the past hour, oldest first, as a day of rentals would fall due.
            p.due_at = now - chrono::Duration::seconds(3_600 - i as i64 % 3_600);
            p
        })
        .collect();
    let store = std::sync::Arc::new(store);
    seed(n, {
        let (store, payouts) = (store.clone(), std::sync::Arc::new(payouts.clone()));
        move |i| {
            let (store, payouts) = (store.clone(), payouts.clone());
            async move { store.save_payout(&payouts[i], None).await.expect("saving a payout") }
        }
    })
    .await;
    eprintln!("seeded {n} charges and payouts in {:.1} s", started.elapsed().as_secs_f64());

    let (wall, run) = run_task(api).await;
    let function_ms = run["duration_ms"].as_f64().unwrap_or_default();
    let outcome = &run["response"];
    let (again_wall, again) = run_task(api).await;

    // Every payout transferred once, to the owner's account, for its share.
    for p in &payouts {
        let stored = store.get_payout(&p.booking_id).await.expect("reading a payout").expect("the payout");
        assert_eq!((stored.transferred, stored.transfer_id.is_some()), (p.owed, true), "{}", p.booking_id);
    }
    assert_eq!(outcome["transferred"].as_u64(), Some(n as u64), "{outcome}");
    assert_eq!(again["response"]["due"].as_u64(), Some(0), "a second run finds nothing due: {again}");
    // ...and at Stripe: one transfer per booking's group, to the owner's account.
    let groups = seed(n, {
        let (stripe, payouts) = (stripe.clone(), std::sync::Arc::new(payouts.clone()));
        move |i| transfers_of(stripe.clone(), payouts[i].booking_id.to_string())
    })
    .await;
    for (p, transfers) in payouts.iter().zip(&groups) {
        let destinations: Vec<&str> = transfers.iter().filter_map(|t| t["destination"].as_str()).collect();
        assert_eq!(destinations, [account.as_str()], "{}: one transfer", p.booking_id);
    }

    println!("| payouts due | Stripe delay | run (wall) | function duration | per payout | of the 300 s timeout | empty run |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {n} | {delay} ms | {:.1} s | {:.1} s | {:.1} ms | {:.0}% | {:.0} ms |",
        wall.as_secs_f64(),
        function_ms / 1000.0,
        function_ms / n as f64,
        100.0 * function_ms / 1000.0 / TIMEOUT_SECS,
        again_wall.as_secs_f64() * 1000.0
    );
}

/// Runs `make(i)` for i in 0..n, SEEDERS at a time; the results in order.
async fn seed<T, F, Fut>(n: usize, make: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let mut running = JoinSet::new();
    for i in 0..n {
        if running.len() == SEEDERS {
            let (j, v) = running.join_next().await.expect("a task").expect("a seeding task");
            out[j] = Some(v);
        }
        let fut = make(i);
        running.spawn(async move { (i, fut.await) });
    }
    while let Some(done) = running.join_next().await {
        let (j, v) = done.expect("a seeding task");
        out[j] = Some(v);
    }
    out.into_iter().map(|v| v.expect("every item seeded")).collect()
}

/// A succeeded charge of 120.00 EUR at the local Stripe, as a renter's payment makes: its id.
async fn charge(stripe: String) -> String {
    let call = |path: String, form: Vec<(&'static str, &'static str)>| {
        let stripe = stripe.clone();
        async move {
            let resp = http()
                .post(format!("{stripe}{path}"))
                .bearer_auth("sk_test_local_runner_only")
                .form(&form)
                .send()
                .await
                .expect("the local Stripe");
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            resp.json::<Value>().await.expect("JSON")
        }
    };
    let intent = call("/v1/payment_intents".into(), vec![("amount", "12000"), ("currency", "eur")]).await;
    let id = intent["id"].as_str().expect("an intent id").to_owned();
    call(format!("/v1/payment_intents/{id}"), vec![("payment_method", "pm_card_visa")]).await;
    let confirmed = call(format!("/v1/payment_intents/{id}/confirm"), vec![]).await;
    let latest = &confirmed["latest_charge"];
    latest["id"].as_str().or(latest.as_str()).expect("the charge").to_owned()
}

/// The transfers Stripe holds for transfer group `group`.
async fn transfers_of(stripe: String, group: String) -> Vec<Value> {
    let v: Value = http()
        .get(format!("{stripe}/v1/transfers?transfer_group={group}"))
        .bearer_auth("sk_test_local_runner_only")
        .send()
        .await
        .expect("transfers")
        .json()
        .await
        .expect("JSON");
    v["data"].as_array().cloned().unwrap_or_default()
}

/// Invokes the payout task once, as its schedule would: (wall time, the runner's answer).
async fn run_task(api: &str) -> (Duration, Value) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(900)).build().expect("client");
    let started = Instant::now();
    let v: Value = client
        .post(format!("{api}/_local/functions/TransferPayoutsFunction/invoke"))
        .json(&json!({}))
        .send()
        .await
        .expect("invoking transfer-payouts")
        .json()
        .await
        .expect("its answer");
    assert!(v.get("error").is_none(), "{v}");
    (started.elapsed(), v)
}
