//! Search on the engine (osmem-server, the OpenSearch stand-in the scripts start): the index
//! adapter keeps the contract the in-memory fake keeps, and `index-listings`, fed by the
//! table's stream, keeps documents in step with listings and their calendars.

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use integration_tests::{env, eventually, http, new_user, onboard, token};
use serde_json::{json, Value};
use shared::adapters::opensearch::{OpenSearch, ALIAS};

fn search_url() -> String {
    std::env::var("RENTAL_SEARCH_URL").expect("RENTAL_SEARCH_URL: the scripts' search stand-in; use scripts/test")
}

/// The listing's document as the engine holds it (`None`: not in the index).
async fn document(id: &str) -> Option<Value> {
    let resp = http().get(format!("{}/{ALIAS}/_doc/{id}", search_url())).send().await.unwrap();
    match resp.status().as_u16() {
        200 => Some(resp.json::<Value>().await.unwrap()["_source"].clone()),
        404 => None,
        s => panic!("reading a document: {s} {:?}", resp.text().await),
    }
}

#[tokio::test]
async fn the_opensearch_adapter_keeps_the_index_contract() {
    let index = OpenSearch::unsigned(&search_url());
    if let Err(broken) = shared::testing::contract::search_index(&index).await {
        panic!("the OpenSearch adapter breaks the index contract: {broken}");
    }
}

#[tokio::test]
async fn documents_follow_listings_and_their_calendars() {
    let owner = token(&new_user()).await;
    onboard(&owner).await;
    let body = json!({
        "title": "Pressure washer", "description": "Kärcher K5, 145 bar", "category": "tools",
        "location": {"city": "Leipzig", "country": "DE", "lat": 51.34, "lng": 12.37},
        "daily_price": {"amount": 1800, "currency": "EUR"}, "deposit": {"amount": 0, "currency": "EUR"},
        "min_days": 1, "max_days": 10, "booking_mode": "request", "status": "active"
    });
    let resp = http().post(env().url("/listings")).bearer_auth(&owner).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let listing: Value = resp.json().await.unwrap();
    let id = listing["id"].as_str().unwrap().to_owned();
    let wait = Duration::from_secs(20);

    let doc = eventually(wait, "the new listing indexed", || async { document(&id).await }).await;
    assert_eq!(doc["title"], "Pressure washer");
    assert_eq!((doc["category"].as_str(), doc["city_key"].as_str()), (Some("tools"), Some("leipzig")));
    assert_eq!(doc["location"], json!({"lat": 51.34, "lon": 12.37}));
    assert_eq!(doc["daily_price"], json!({"amount": 1800, "currency": "EUR"}));
    assert_eq!(doc["unavailable"], json!([]));

    // An owner's block reaches the document as one merged range.
    let start = Utc::now().date_naive() + Days::days(5);
    let end = start + Days::days(3);
    let resp = http()
        .post(env().url(&format!("/listings/{id}/blocked-dates")))
        .bearer_auth(&owner)
        .json(&json!({"start_date": start.to_string(), "end_date": end.to_string()}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "block: {:?}", resp.text().await);
    let expected = json!([{"gte": start.to_string(), "lt": end.to_string()}]);
    eventually(wait, "the block indexed", || async { document(&id).await.filter(|d| d["unavailable"] == expected) })
        .await;

    // Paused: out of the index; active again: back, with its calendar.
    for (status, present) in [("paused", false), ("active", true)] {
        let current: Value = http()
            .get(env().url(&format!("/listings/{id}")))
            .bearer_auth(&owner)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let resp = http()
            .patch(env().url(&format!("/listings/{id}")))
            .bearer_auth(&owner)
            .header("if-match", format!("\"{}\"", current["version"]))
            .json(&json!({"status": status}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{status}: {:?}", resp.text().await);
        let doc = eventually(wait, status, || async {
            let doc = document(&id).await;
            (doc.is_some() == present).then_some(doc)
        })
        .await;
        if let Some(doc) = doc {
            assert_eq!(doc["unavailable"], expected, "the calendar comes back with the listing");
        }
    }
}
