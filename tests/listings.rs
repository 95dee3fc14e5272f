//! Listings over HTTP through the local gateway and the real functions: create, read, edit
//! with ETags, archive, search by every filter and sort (on the engine, a moment after each
//! write), and what a non-owner can (not) do.

use std::collections::HashSet;

use std::time::Duration;

use integration_tests::{env, eventually, http, new_user, token, token_for, PrivateRunner};
use serde_json::{json, Value};

fn listing_body(city: &str, overrides: Value) -> Value {
    let mut body = json!({
        "title": "Cordless drill", "description": "18V, two batteries", "category": "tools",
        "location": {"city": city, "country": "DE", "lat": 52.52, "lng": 13.405},
        "daily_price": {"amount": 1200, "currency": "EUR"}, "deposit": {"amount": 5000, "currency": "EUR"},
        "min_days": 1, "max_days": 14, "booking_mode": "instant", "status": "active"
    });
    for (k, v) in overrides.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    body
}

async fn create(api: &str, token: &str, body: &Value) -> Value {
    if body["status"] == "active" {
        integration_tests::onboard_on(api, token).await;
    }
    let resp = http().post(format!("{api}/listings")).bearer_auth(token).json(body).send().await.unwrap();
    assert_eq!(resp.status(), 201, "create: {:?}", resp.text().await);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(location, format!("/listings/{}", v["id"].as_str().unwrap()));
    v
}

async fn get(path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = http().get(env().url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn patch(id: &str, token: &str, if_match: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = http().patch(env().url(&format!("/listings/{id}"))).bearer_auth(token).json(&body);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

async fn problem_code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    assert_eq!(resp.headers()["content-type"], "application/problem+json", "status {status}");
    let v: Value = resp.json().await.unwrap();
    (status, v["code"].as_str().unwrap_or_default().to_owned())
}

/// Every id a search returns, following `next_cursor` to the end (and checking the page size).
async fn all_pages(api: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let mut url = reqwest::Url::parse(&format!("{api}/listings?{query}")).unwrap();
        url.query_pairs_mut().append_pair("limit", &limit.to_string());
        if let Some(c) = &cursor {
            url.query_pairs_mut().append_pair("cursor", c);
        }
        let resp = http().get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{query}: {:?}", resp.text().await);
        let page: Value = resp.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        out.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), limit, "{query}: only the last page may be short");
                cursor = Some(c.to_owned());
            }
            None => return out,
        }
    }
    panic!("{query}: more than 1000 pages");
}

fn unique_city() -> String {
    format!("Testville {}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// The whole answer to `query` once `ready` holds for it (the index follows writes within
/// moments).
async fn found_once(api: &str, query: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    eventually(Duration::from_secs(20), query, || async {
        let items = all_pages(api, query, 20).await;
        ready(&items).then_some(items)
    })
    .await
}

#[tokio::test]
async fn create_get_patch_with_etags_archive_and_vanish_from_search() {
    let owner = new_user();
    let owner_token = token(&owner).await;
    let city = unique_city();
    let api = &env().api;

    let draft = create(api, &owner_token, &listing_body(&city, json!({"status": "draft"}))).await;
    let id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(draft["owner_id"], owner.as_str());
    assert_eq!(draft["version"], 1);

    // A draft is the owner's alone.
    assert_eq!(get(&format!("/listings/{id}"), None).await.status(), 404);
    let resp = get(&format!("/listings/{id}"), Some(&owner_token)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    assert_eq!(resp.headers()["cache-control"], "no-store");

    // Edits need the current ETag.
    assert_eq!(
        problem_code(patch(&id, &owner_token, None, json!({"status": "active"})).await).await,
        (428, "precondition_required".into())
    );
    assert_eq!(
        problem_code(patch(&id, &owner_token, Some("\"0\""), json!({"status": "active"})).await).await,
        (412, "precondition_failed".into())
    );
    // Publishing needs a payout account that can receive transfers.
    assert_eq!(
        problem_code(patch(&id, &owner_token, Some("\"1\""), json!({"status": "active"})).await).await,
        (409, "payout_account_required".into())
    );
    integration_tests::onboard(&owner_token).await;
    let resp =
        patch(&id, &owner_token, Some("\"1\""), json!({"status": "active", "title": "Cordless drill 18V"})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    // The same stale ETag again loses: someone (we) changed it since.
    assert_eq!(
        problem_code(patch(&id, &owner_token, Some("\"1\""), json!({"title": "again"})).await).await,
        (412, "precondition_failed".into())
    );

    let resp = get(&format!("/listings/{id}"), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["title"], "Cordless drill 18V");

    // Search follows the listing a moment later (the engine is fed from the table's stream).
    let query = format!("country=DE&city={}", city.replace(' ', "+"));
    let found =
        found_once(api, &query, |items| items.first().is_some_and(|l| l["title"] == "Cordless drill 18V")).await;
    assert_eq!(found[0]["id"], id.as_str());

    // A new category: found under it, no longer under the old one.
    let resp = patch(&id, &owner_token, Some("\"2\""), json!({"category": "cameras"})).await;
    assert_eq!(resp.status(), 200);
    let moved = found_once(api, &format!("category=cameras&{query}"), |items| items.len() == 1).await;
    assert_eq!(moved[0]["id"], id.as_str());
    assert!(all_pages(api, &format!("category=tools&{query}"), 20).await.is_empty(), "left its old category");

    // Archive: 204, idempotent, gone from search, still the owner's to read.
    for _ in 0..2 {
        let resp = http().delete(env().url(&format!("/listings/{id}"))).bearer_auth(&owner_token).send().await.unwrap();
        assert_eq!(resp.status(), 204);
    }
    found_once(api, &query, |items| items.is_empty()).await;
    assert_eq!(get(&format!("/listings/{id}"), None).await.status(), 404);
    let resp = get(&format!("/listings/{id}"), Some(&owner_token)).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "archived");
    assert_eq!(
        problem_code(patch(&id, &owner_token, Some("\"4\""), json!({"title": "x"})).await).await,
        (409, "listing_archived".into())
    );

    let mine: Value = get("/me/listings", Some(&owner_token)).await.json().await.unwrap();
    assert_eq!(mine["items"][0]["id"], id.as_str());
    assert_eq!(mine["items"][0]["status"], "archived");
    // Summaries, read through the index with a projection: no description, the rest as stored.
    assert!(mine["items"][0].get("description").is_none());
    assert_eq!(
        (&mine["items"][0]["title"], &mine["items"][0]["daily_price"]),
        (&json!("Cordless drill 18V"), &draft["daily_price"])
    );
}

#[tokio::test]
async fn a_non_owner_gets_404_for_every_owner_action() {
    let owner_token = token(&new_user()).await;
    let stranger_token = token(&new_user()).await;
    let api = &env().api;
    let active = create(api, &owner_token, &listing_body(&unique_city(), json!({}))).await;
    let draft = create(api, &owner_token, &listing_body(&unique_city(), json!({"status": "draft"}))).await;

    for listing in [&active, &draft] {
        let id = listing["id"].as_str().unwrap();
        assert_eq!(
            problem_code(patch(id, &stranger_token, Some("\"1\""), json!({"title": "mine now"})).await).await,
            (404, "not_found".into())
        );
        let resp =
            http().delete(env().url(&format!("/listings/{id}"))).bearer_auth(&stranger_token).send().await.unwrap();
        assert_eq!(problem_code(resp).await, (404, "not_found".into()));
    }
    assert_eq!(get(&format!("/listings/{}", draft["id"].as_str().unwrap()), Some(&stranger_token)).await.status(), 404);
    assert_eq!(
        get(&format!("/listings/{}", active["id"].as_str().unwrap()), Some(&stranger_token)).await.status(),
        200
    );
    let theirs: Value = get("/me/listings", Some(&stranger_token)).await.json().await.unwrap();
    assert_eq!(theirs["items"], json!([]));

    // Nothing changed.
    for listing in [&active, &draft] {
        let resp = get(&format!("/listings/{}", listing["id"].as_str().unwrap()), Some(&owner_token)).await;
        assert_eq!(resp.headers()["etag"], "\"1\"");
    }
    // A cursor of the owner's own listings is useless to anyone else.
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(create(api, &owner_token, &listing_body(&unique_city(), json!({}))).await);
    }
    let page: Value = get("/me/listings?limit=1", Some(&owner_token)).await.json().await.unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    let resp = get(&format!("/me/listings?cursor={cursor}"), Some(&stranger_token)).await;
    assert_eq!(problem_code(resp).await, (400, "invalid_cursor".into()));
}

#[tokio::test]
async fn bad_requests_are_clear_4xx_problems() {
    let owner_token = token(&new_user()).await;
    let url = env().url("/listings");
    let post = |body: String| {
        http().post(&url).bearer_auth(&owner_token).header("content-type", "application/json").body(body).send()
    };

    let mut unknown = listing_body("Berlin", json!({}));
    unknown["colour"] = json!("red");
    assert_eq!(problem_code(post(unknown.to_string()).await.unwrap()).await, (400, "unknown_field".into()));

    let resp = post(listing_body("Berlin", json!({"min_days": "one"})).to_string()).await.unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!((v["status"].as_u64(), v["code"].as_str()), (Some(400), Some("invalid_field")));
    assert!(v["detail"].as_str().unwrap().starts_with("min_days"), "names the field: {v}");

    let resp = post(listing_body("Berlin", json!({"max_days": 91, "category": "tools"})).to_string()).await.unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], "validation_failed");
    assert_eq!(v["errors"][0]["field"], "max_days");

    let huge = listing_body("Berlin", json!({"description": "x".repeat(70 * 1024)}));
    assert_eq!(problem_code(post(huge.to_string()).await.unwrap()).await, (413, "payload_too_large".into()));

    let no_token = http().post(&url).json(&listing_body("Berlin", json!({}))).send().await.unwrap();
    assert_eq!(no_token.status(), 401);

    for (query, code) in [
        ("sort=price_asc", "unsupported_filter_combination"),
        ("min_price=5", "unsupported_filter_combination"),
        ("near=91,13", "invalid_parameter"),
        ("near=52.5,13.4&radius_km=500", "invalid_parameter"),
        ("bbox=14,52,13,53", "invalid_parameter"),
        ("available_from=2026-12-09&available_to=2026-12-01", "invalid_parameter"),
        ("sort=relevance", "invalid_parameter"),
        ("limit=1000", "invalid_parameter"),
        ("cursor=forged.cursor", "invalid_cursor"),
        ("colour=red", "unknown_parameter"),
    ] {
        assert_eq!(problem_code(get(&format!("/listings?{query}"), None).await).await, (400, code.into()), "{query}");
    }
    assert_eq!(get("/listings/not-a-listing-id", None).await.status(), 404);
}

/// 250 listings in a stack of their own, so every search's complete answer is known: paging
/// with limit=20 through each filter and sort returns exactly the expected ids, in order,
/// with no duplicate and no gap.
#[tokio::test]
async fn search_pages_through_250_listings_by_every_filter_and_sort_without_gaps() {
    let runner = PrivateRunner::start("search").await;
    let api = runner.api.clone();
    let owners = [new_user(), new_user()];
    let tokens = [token_for(&api, json!({"sub": owners[0]})).await, token_for(&api, json!({"sub": owners[1]})).await];
    let categories = ["tools", "bikes", "cameras"];
    let places = [("DE", "Berlin"), ("DE", "Hamburg"), ("NL", "Utrecht")];

    let mut tasks = tokio::task::JoinSet::new();
    let mut created: Vec<Value> = Vec::new();
    for i in 0..260usize {
        let (country, city) = places[i % 3];
        let body = listing_body(
            city,
            json!({
                "category": categories[(i / 3) % 3],
                "location": {"city": city, "country": country},
                "daily_price": {"amount": 100 + (i * 37) % 900, "currency": if i % 5 == 0 { "USD" } else { "EUR" }},
                "deposit": {"amount": 0, "currency": if i % 5 == 0 { "USD" } else { "EUR" }},
                // Ten drafts: never in search.
                "status": if i >= 250 { "draft" } else { "active" },
            }),
        );
        let (api, token) = (api.clone(), tokens[i % 2].clone());
        tasks.spawn(async move { create(&api, &token, &body).await });
        if tasks.len() >= 8 {
            created.push(tasks.join_next().await.unwrap().unwrap());
        }
    }
    while let Some(r) = tasks.join_next().await {
        created.push(r.unwrap());
    }
    let active: Vec<&Value> = created.iter().filter(|l| l["status"] == "active").collect();
    assert_eq!(active.len(), 250);
    // The indexer keeps up: every active listing is findable within seconds.
    eventually(Duration::from_secs(60), "250 listings indexed", || async {
        (all_pages(&api, "", 100).await.len() == 250).then_some(())
    })
    .await;

    let millis =
        |l: &Value| chrono::DateTime::parse_from_rfc3339(l["created_at"].as_str().unwrap()).unwrap().timestamp_millis();
    let price_key =
        |l: &Value| (l["daily_price"]["amount"].as_i64().unwrap(), millis(l), l["id"].as_str().unwrap().to_owned());
    type Filter = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(&str, Filter, &str)> = vec![
        ("", Box::new(|_| true), "newest"),
        ("category=bikes", Box::new(|l| l["category"] == "bikes"), "newest"),
        ("country=DE", Box::new(|l| l["location"]["country"] == "DE"), "newest"),
        ("country=DE&city=hamburg", Box::new(|l| l["location"]["city"] == "Hamburg"), "newest"),
        (
            "category=tools&country=NL",
            Box::new(|l| l["category"] == "tools" && l["location"]["country"] == "NL"),
            "newest",
        ),
        (
            "category=cameras&country=DE&city=Berlin",
            Box::new(|l| l["category"] == "cameras" && l["location"]["city"] == "Berlin"),
            "newest",
        ),
        (
            Box::leak(format!("owner_id={}", owners[1]).into_boxed_str()),
            {
                let o = owners[1].clone();
                Box::new(move |l| l["owner_id"] == o.as_str())
            },
            "newest",
        ),
        ("currency=EUR&sort=price_asc", Box::new(|l| l["daily_price"]["currency"] == "EUR"), "asc"),
        ("currency=USD&sort=price_desc", Box::new(|l| l["daily_price"]["currency"] == "USD"), "desc"),
        (
            "currency=EUR&sort=price_asc&min_price=300&max_price=700&category=tools",
            Box::new(|l| {
                let a = l["daily_price"]["amount"].as_i64().unwrap();
                l["daily_price"]["currency"] == "EUR" && (300..=700).contains(&a) && l["category"] == "tools"
            }),
            "asc",
        ),
    ];
    for (query, filter, order) in cases {
        let mut expected: Vec<&Value> = active.iter().copied().filter(|l| filter(l)).collect();
        match order {
            // Newest first; listings of the same millisecond by id.
            "newest" => expected.sort_by_key(|l| (std::cmp::Reverse(millis(l)), l["id"].as_str().unwrap().to_owned())),
            "asc" => expected.sort_by_key(|l| price_key(l)),
            _ => expected.sort_by_key(|l| std::cmp::Reverse(price_key(l))),
        }
        let expected: Vec<&str> = expected.iter().map(|l| l["id"].as_str().unwrap()).collect();
        assert!(!expected.is_empty(), "{query}: the seed covers it");
        let got = all_pages(&api, query, 20).await;
        let ids: Vec<&str> = got.iter().map(|l| l["id"].as_str().unwrap()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{query}: duplicates");
        assert_eq!(ids, expected, "{query}: gaps or wrong order");
    }
}
