//! Search benchmark: seeds listings into moto exactly as the functions store them (the
//! adapter's own item builder), then pages through every filter and sort with the adapter's
//! own query, and reports what a page costs. The point: the figure must not grow with the
//! table. Run by `scripts/bench-search-entries`, which starts a private moto.
//!
//! Usage: bench-search [SIZE ...]   (default: 1000 100000)

use std::time::Instant;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    PutRequest, ScalarAttributeType, WriteRequest,
};
use chrono::{Duration, TimeZone, Utc};
use shared::adapters::dynamodb::listings::listing_items;
use shared::adapters::dynamodb::DynamoTable;
use shared::domain::listing::Listing;
use shared::domain::search::SearchQuery;
use shared::domain::user::UserId;
use shared::ports::ListingSearch;

const TABLE: &str = "bench-search";
const CATEGORIES: [&str; 11] =
    ["tools", "electronics", "cameras", "vehicles", "bikes", "outdoor", "sports", "party", "music", "home", "other"];
const PLACES: [(&str, &str); 10] = [
    ("DE", "Berlin"),
    ("DE", "Hamburg"),
    ("DE", "Munich"),
    ("NL", "Amsterdam"),
    ("NL", "Utrecht"),
    ("FR", "Paris"),
    ("FR", "Lyon"),
    ("ES", "Madrid"),
    ("IT", "Rome"),
    ("PL", "Warsaw"),
];
const PAGES: usize = 5;
const LIMIT: u32 = 20;

fn listing(i: usize) -> Listing {
    // A cheap deterministic spread (no RNG dependency): every partition gets a share.
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 17;
    let (country, city) = PLACES[((h >> 4) % PLACES.len() as u64) as usize];
    let currency = if h % 5 == 0 { "USD" } else { "EUR" };
    let request = serde_json::json!({
        "title": format!("Bench item {i}"), "description": "A thing to rent, described in a sentence or two like real listings are.",
        "category": CATEGORIES[((h >> 8) % CATEGORIES.len() as u64) as usize],
        "location": {"city": city, "country": country},
        "daily_price": {"amount": 100 + (h >> 16) % 20_000, "currency": currency},
        "deposit": {"amount": 5_000, "currency": currency},
        "min_days": 1, "max_days": 30, "booking_mode": "instant",
        "status": if (h >> 40) % 10 == 0 { "draft" } else { "active" },
    });
    let owner = UserId::parse(&format!("bench-owner-{}", (h >> 28) % 200)).expect("bench owner id");
    let created =
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default() + Duration::seconds(i as i64 * 7);
    Listing::create(serde_json::from_value(request).expect("bench request"), owner, created)
        .expect("valid bench listing")
}

async fn create_table(client: &aws_sdk_dynamodb::Client) {
    let _ = client.delete_table().table_name(TABLE).send().await;
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("key")
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attr")
    };
    client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .attribute_definitions(attr("PK"))
        .attribute_definitions(attr("SK"))
        .attribute_definitions(attr("GSI1PK"))
        .attribute_definitions(attr("GSI1SK"))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("GSI1")
                .key_schema(key("GSI1PK", KeyType::Hash))
                .key_schema(key("GSI1SK", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .expect("gsi"),
        )
        .send()
        .await
        .expect("create bench table");
}

/// Writes listings `from..to` with BatchWriteItem (25 items a call, 4 calls in flight).
async fn seed(client: &aws_sdk_dynamodb::Client, from: usize, to: usize) -> usize {
    let mut items = Vec::new();
    for i in from..to {
        items.extend(listing_items(&listing(i)).expect("items"));
    }
    let count = items.len();
    let batches: Vec<Vec<WriteRequest>> = items
        .chunks(25)
        .map(|chunk| {
            chunk
                .iter()
                .map(|item| {
                    WriteRequest::builder()
                        .put_request(PutRequest::builder().set_item(Some(item.clone())).build().expect("put"))
                        .build()
                })
                .collect()
        })
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for batch in batches {
        if tasks.len() >= 4 {
            tasks.join_next().await.expect("task").expect("join");
        }
        let client = client.clone();
        tasks.spawn(async move {
            let mut pending = Some(std::collections::HashMap::from([(TABLE.to_owned(), batch)]));
            while let Some(request) = pending.take().filter(|r| !r.is_empty()) {
                let out = client.batch_write_item().set_request_items(Some(request)).send().await.expect("batch write");
                pending = out.unprocessed_items.filter(|u| u.values().any(|v| !v.is_empty()));
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("join");
    }
    count
}

struct Cost {
    items_per_page: f64,
    max_items: i32,
    rcu_per_page: f64,
    moto_capacity: f64,
    ms_per_page: f64,
}

async fn measure(store: &DynamoTable, params: &[(&str, &str)]) -> Cost {
    let pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let query = SearchQuery::parse(&pairs).expect("benchmark queries are valid");
    let index = query.index_query();
    let (mut items, mut max_items, mut rcu, mut moto, mut pages) = (0i64, 0, 0.0, 0.0, 0);
    let started = Instant::now();
    let mut start = None;
    for _ in 0..PAGES {
        let page = store.search(&index, LIMIT, start).await.expect("search page");
        items += i64::from(page.items_read);
        max_items = max_items.max(page.items_read);
        // Eventually consistent Query: 0.5 RCU per 4 KB read, rounded up per request.
        rcu += (page.bytes_read.max(1) as f64 / 4096.0).ceil() * 0.5;
        moto += page.capacity_units;
        pages += 1;
        start = page.last_key;
        if start.is_none() {
            break;
        }
    }
    let n = f64::from(pages);
    Cost {
        items_per_page: items as f64 / n,
        max_items,
        rcu_per_page: rcu / n,
        moto_capacity: moto / n,
        ms_per_page: started.elapsed().as_secs_f64() * 1000.0 / n,
    }
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("sizes are numbers")).collect();
    let sizes = if sizes.is_empty() { vec![1_000, 100_000] } else { sizes };
    let config = shared::config::aws_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    create_table(&client).await;
    let store = DynamoTable::new(client.clone(), TABLE);

    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("newest (no filter)", vec![]),
        ("category", vec![("category", "tools")]),
        ("country", vec![("country", "DE")]),
        ("country + city", vec![("country", "DE"), ("city", "Berlin")]),
        ("category + country", vec![("category", "bikes"), ("country", "NL")]),
        ("category + country + city", vec![("category", "cameras"), ("country", "FR"), ("city", "Paris")]),
        ("owner_id", vec![("owner_id", "bench-owner-7")]),
        ("price_asc EUR", vec![("currency", "EUR"), ("sort", "price_asc")]),
        (
            "price_desc USD 50-150.00",
            vec![("currency", "USD"), ("sort", "price_desc"), ("min_price", "5000"), ("max_price", "15000")],
        ),
        ("category + price_asc EUR", vec![("category", "tools"), ("currency", "EUR"), ("sort", "price_asc")]),
    ];

    let mut seeded = 0;
    let mut results: Vec<(usize, Vec<Cost>)> = Vec::new();
    for &size in &sizes {
        let started = Instant::now();
        let items = seed(&client, seeded, size).await;
        eprintln!(
            "seeded {} listings ({items} items) in {:.1} s; table now {size} listings",
            size - seeded,
            started.elapsed().as_secs_f64()
        );
        seeded = size;
        let mut costs = Vec::new();
        for (_, params) in &cases {
            costs.push(measure(&store, params).await);
        }
        results.push((size, costs));
    }

    println!("Search page cost (limit {LIMIT}, first {PAGES} pages of each query; RCU estimated from the bytes read by DynamoDB's rules)\n");
    let mut header = String::from("| query |");
    let mut rule = String::from("|---|");
    for (size, _) in &results {
        header.push_str(&format!(" items/page @{size} | RCU/page @{size} |"));
        rule.push_str("---|---|");
    }
    println!("{header}\n{rule}");
    for (i, (name, _)) in cases.iter().enumerate() {
        let mut row = format!("| {name} |");
        for (_, costs) in &results {
            let c = &costs[i];
            row.push_str(&format!(" {:.1} (max {}) | {:.1} |", c.items_per_page, c.max_items, c.rcu_per_page));
        }
        println!("{row}");
    }
    println!(
        "\nmoto's reported ConsumedCapacity per page (a constant in moto, shown for completeness): {}",
        results
            .iter()
            .map(|(s, c)| format!("@{s}: {:.1}", c.iter().map(|x| x.moto_capacity).sum::<f64>() / c.len() as f64))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "moto wall time per page (moto's speed, not DynamoDB's): {}",
        results
            .iter()
            .map(|(s, c)| format!("@{s}: {:.1} ms", c.iter().map(|x| x.ms_per_page).sum::<f64>() / c.len() as f64))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = client.delete_table().table_name(TABLE).send().await;
}
