//! Search on the engine (osmem-server, the OpenSearch stand-in the scripts start): the index
//! adapter keeps the contract the in-memory fake keeps, and `index-listings`, fed by the
//! table's stream, keeps documents in step with listings and their calendars.

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use integration_tests::{env, eventually, http, new_user, onboard, onboard_on, token, token_for, PrivateRunner};
use serde_json::{json, Value};
use shared::adapters::opensearch::OpenSearch;

fn search_url() -> String {
    std::env::var("RENTAL_SEARCH_URL").expect("RENTAL_SEARCH_URL: the scripts' search stand-in; use scripts/test")
}

/// The listing's document as the shared stack's index holds it (`None`: not in the index).
async fn document(id: &str) -> Option<Value> {
    let index = std::env::var("RENTAL_SEARCH_INDEX").expect("RENTAL_SEARCH_INDEX: the shared stack's index");
    let resp = http().get(format!("{}/{index}/_doc/{id}", search_url())).send().await.unwrap();
    match resp.status().as_u16() {
        200 => Some(resp.json::<Value>().await.unwrap()["_source"].clone()),
        404 => None,
        s => panic!("reading a document: {s} {:?}", resp.text().await),
    }
}

#[tokio::test]
async fn the_opensearch_adapter_keeps_the_index_contract() {
    let index = OpenSearch::unsigned(&search_url(), "contract-listings");
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

/// `GET /listings?{query}` (one page of 100), as ids in answer order, with the whole answer.
async fn search(query: &str) -> (Vec<String>, Value) {
    let resp = http().get(env().url(&format!("/listings?{query}&limit=100"))).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{query}: {:?}", resp.text().await);
    let page: Value = resp.json().await.unwrap();
    let ids = page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    (ids, page)
}

/// Waits until `query` finds exactly `expected` (in this order).
async fn finds(query: &str, expected: &[&str]) -> Value {
    eventually(Duration::from_secs(20), query, || async {
        let (ids, page) = search(query).await;
        (ids == expected).then_some(page)
    })
    .await
}

async fn list(
    owner: &str,
    title: &str,
    category: &str,
    point: Option<(f64, f64)>,
    price: i64,
    max_days: u16,
) -> String {
    let mut location = json!({"city": "Searchtown", "country": "DE"});
    if let Some((lat, lng)) = point {
        location["lat"] = json!(lat);
        location["lng"] = json!(lng);
    }
    let body = json!({
        "title": title, "description": format!("{title}, ready to rent"), "category": category,
        "location": location, "daily_price": {"amount": price, "currency": "EUR"},
        "deposit": {"amount": 0, "currency": "EUR"}, "min_days": 1, "max_days": max_days,
        "booking_mode": "instant", "status": "active"
    });
    let resp = http().post(env().url("/listings")).bearer_auth(owner).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// Words, place, dates, filters, sorts and facets through the API, on one owner's listings
/// (`owner_id` keeps other tests' listings out of the answers).
#[tokio::test]
async fn renters_find_by_words_place_and_dates() {
    let owner_sub = new_user();
    let owner = token(&owner_sub).await;
    onboard(&owner).await;
    let mitte = list(&owner, "Cordless drill with two batteries", "tools", Some((52.520, 13.405)), 1500, 14).await;
    let potsdam = list(&owner, "Hammer drill SDS", "tools", Some((52.391, 13.064)), 2500, 3).await;
    let hamburg = list(&owner, "Mountain bike", "bikes", Some((53.551, 9.994)), 1000, 14).await;
    let nowhere = list(&owner, "Camera tripod", "cameras", None, 800, 14).await;
    let mine = format!("owner_id={owner_sub}");

    // Everything indexed: the newest first.
    let all = finds(&mine, &[&nowhere, &hamburg, &potsdam, &mitte]).await;
    let facets = &all["facets"];
    let count = |key: &str| {
        facets["categories"].as_array().unwrap().iter().find(|c| c["key"] == key).map(|c| c["count"].clone())
    };
    assert_eq!((count("tools"), count("bikes"), count("cameras")), (Some(json!(2)), Some(json!(1)), Some(json!(1))));
    assert_eq!(
        facets["prices"],
        json!([{"currency": "EUR", "buckets": [
            {"from": 0, "to": 1000, "count": 1}, {"from": 1000, "to": 2000, "count": 2}, {"from": 2000, "to": 3000, "count": 1}
        ]}])
    );

    // Words: title above description, stems, typos; a miss is empty, not an error.
    for q in ["drill", "drills", "dril", "DRILL"] {
        let (mut ids, _) = search(&format!("{mine}&q={q}")).await;
        ids.sort();
        let mut expected = vec![mitte.clone(), potsdam.clone()];
        expected.sort();
        assert_eq!(ids, expected, "q={q}");
    }
    assert!(search(&format!("{mine}&q=kayak")).await.0.is_empty());
    assert!(search(&format!("{mine}&q=drill+AND+title%3A*")).await.0.is_empty(), "query syntax is just words");

    // Near: nearest first with distances, cut at the radius; no coordinates, never near.
    let (ids, page) = search(&format!("{mine}&near=52.520,13.405&radius_km=30")).await;
    assert_eq!(ids, vec![mitte.clone(), potsdam.clone()]);
    let km: Vec<f64> = page["items"].as_array().unwrap().iter().map(|i| i["distance_km"].as_f64().unwrap()).collect();
    assert!(km[0] < 0.1 && (20.0..30.0).contains(&km[1]), "{km:?}");
    assert_eq!(search(&format!("{mine}&near=52.520,13.405&radius_km=10")).await.0, vec![mitte.clone()]);
    assert_eq!(search(&format!("{mine}&bbox=9.5,53.3,10.5,53.8")).await.0, vec![hamburg.clone()]);

    // Combined with category, price and a price sort.
    assert_eq!(search(&format!("{mine}&category=tools&currency=EUR&max_price=2000")).await.0, vec![mitte.clone()]);
    assert_eq!(
        search(&format!("{mine}&currency=EUR&sort=price_desc")).await.0,
        vec![potsdam.clone(), mitte.clone(), hamburg.clone(), nowhere.clone()]
    );

    // Dates: a block and a booking take listings out of the days they cover, not the next.
    let day = |n: i64| (Utc::now().date_naive() + Days::days(n)).to_string();
    let resp = http()
        .post(env().url(&format!("/listings/{mitte}/blocked-dates")))
        .bearer_auth(&owner)
        .json(&json!({"start_date": day(10), "end_date": day(13)}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let renter = token(&new_user()).await;
    let resp = http()
        .post(env().url("/bookings"))
        .bearer_auth(&renter)
        .json(&json!({"listing_id": potsdam, "start_date": day(11), "end_date": day(13), "message": "Hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let booking = resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let drills = format!("{mine}&q=drill&sort=newest");
    finds(&format!("{drills}&available_from={}&available_to={}", day(10), day(11)), &[&potsdam]).await;
    finds(&format!("{drills}&available_from={}&available_to={}", day(12), day(13)), &[]).await;
    finds(&format!("{drills}&available_from={}&available_to={}", day(13), day(15)), &[&potsdam, &mitte]).await;
    // Potsdam's drill takes stays of up to 3 days.
    finds(&format!("{drills}&available_from={}&available_to={}", day(20), day(24)), &[&mitte]).await;

    // The booking cancelled: its days free again, the listing found for them.
    let resp = http()
        .post(env().url(&format!("/bookings/{booking}/cancel")))
        .bearer_auth(&renter)
        .json(&json!({"reason": "Plans changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    finds(&format!("{drills}&available_from={}&available_to={}", day(11), day(13)), &[&potsdam]).await;
}

/// scripts/reindex on a stack of its own: a document the index lost comes back, the alias
/// moves to the new index in one step, the old one goes, and the indexer writes on through it.
#[tokio::test]
async fn a_rebuild_restores_what_the_index_lost_and_swaps_the_alias() {
    let runner = PrivateRunner::start("reindex").await;
    let api = runner.api.clone();
    let alias = format!("listings-{}", runner.stack.to_lowercase());
    let owner = token_for(&api, json!({"sub": new_user()})).await;
    onboard_on(&api, &owner).await;
    let mut ids = Vec::new();
    for title in ["Ladder", "Tile cutter", "Lawn mower"] {
        let body = json!({
            "title": title, "category": "tools", "location": {"city": "Rebuildham", "country": "DE"},
            "daily_price": {"amount": 700, "currency": "EUR"}, "deposit": {"amount": 0, "currency": "EUR"},
            "min_days": 1, "max_days": 7, "booking_mode": "request", "status": "active"
        });
        let resp = http().post(format!("{api}/listings")).bearer_auth(&owner).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 201);
        ids.push(resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    let found = |n: usize| {
        let api = api.clone();
        async move {
            let page: Value =
                http().get(format!("{api}/listings?limit=100")).send().await.unwrap().json().await.unwrap();
            (page["items"].as_array().unwrap().len() == n).then_some(())
        }
    };
    eventually(Duration::from_secs(20), "3 listings indexed", || found(3)).await;

    // The index loses a document (as when records were given up on).
    let resp = http().delete(format!("{}/{alias}/_doc/{}", search_url(), ids[1])).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(found(2).await.is_some());

    let root = std::env::var("PROJECT_ROOT").unwrap();
    let out = tokio::process::Command::new(format!("{root}/scripts/reindex"))
        .env("TABLE_NAME", runner.reference("Table"))
        .env("SEARCH_ENDPOINT", search_url())
        .env("SEARCH_INDEX", &alias)
        .env("AWS_ENDPOINT_URL", &env().aws_endpoint)
        .env("REINDEX_BIN", format!("{root}/target/debug/reindex"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("{alias}-v2 now holds 3 documents")), "{stdout}");
    assert!(found(3).await.is_some(), "the lost document is back, at once");
    let aliases: Value =
        http().get(format!("{}/_alias/{alias}", search_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(aliases.as_object().unwrap().keys().collect::<Vec<_>>(), vec![&format!("{alias}-v2")]);
    let old = http().head(format!("{}/{alias}-v1", search_url())).send().await.unwrap();
    assert_eq!(old.status(), 404, "the replaced index is deleted");

    // The indexer writes on through the moved alias.
    let resp = http().delete(format!("{api}/listings/{}", ids[0])).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    eventually(Duration::from_secs(20), "the archived listing gone", || found(2)).await;
}
