//! The outbox and its stream (decision 0029), end to end: events written with their changes
//! reach notifications and the audit trail exactly once and in order per booking, through a
//! queue outage; a poison record is set aside after its retries while the records behind it
//! flow on; a replayed stream batch delivers nothing twice.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{NaiveDate, Utc};
use integration_tests::{aws_config, env, eventually, http, new_user, token_for, PrivateRunner};
use serde_json::{json, Value};

fn day(offset: i64) -> NaiveDate {
    Utc::now().date_naive() + chrono::Duration::days(offset)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

async fn user_token(api: &str, sub: &str) -> String {
    token_for(api, json!({ "sub": sub, "name": "Events", "email": format!("{sub}@example.test") })).await
}

async fn post(api: &str, token: &str, path: &str, body: Value) -> Value {
    let resp = http().post(format!("{api}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    assert!(resp.status().is_success(), "POST {path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn listing(api: &str, owner_token: &str) -> String {
    integration_tests::onboard_on(api, owner_token).await;
    let body = json!({
        "title": "Cordless drill", "category": "tools", "location": {"city": "Berlin", "country": "DE"},
        "daily_price": {"amount": 900, "currency": "EUR"}, "deposit": {"amount": 0, "currency": "EUR"},
        "min_days": 1, "max_days": 14, "booking_mode": "request", "status": "active"
    });
    post(api, owner_token, "/listings", body).await["id"].as_str().unwrap().to_owned()
}

async fn table() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&aws_config(&env().aws_endpoint).await)
}

/// Every item of partition `pk` whose sort key starts with `prefix`, in key order.
async fn items(
    db: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
    prefix: &str,
) -> Vec<HashMap<String, AttributeValue>> {
    db.query()
        .table_name(table)
        .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
        .expression_attribute_values(":pk", s(pk))
        .expression_attribute_values(":p", s(prefix))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

/// The audit trail of booking `id` (written with each change): its event types, in the order
/// things happened.
async fn trail(db: &aws_sdk_dynamodb::Client, table: &str, id: &str) -> Vec<String> {
    items(db, table, &format!("AUDIT#booking/{id}"), "EVT#").await.iter().map(|i| text(i, "type")).collect()
}

/// `user`'s notifications about booking `id`: their kinds, oldest first.
async fn notified(db: &aws_sdk_dynamodb::Client, table: &str, user: &str, id: &str) -> Vec<String> {
    items(db, table, &format!("USER#{user}"), "NOTIF#")
        .await
        .iter()
        .filter(|i| text(i, "booking_id") == id)
        .map(|i| text(i, "kind"))
        .collect()
}

#[tokio::test]
async fn events_written_while_their_queue_is_gone_arrive_once_each_in_order() {
    let runner = PrivateRunner::start("outbox").await;
    let api = runner.api.clone();
    let config = aws_config(&env().aws_endpoint).await;
    let (db, sqs) = (aws_sdk_dynamodb::Client::new(&config), aws_sdk_sqs::Client::new(&config));
    let table = runner.reference("Table");
    let owner = new_user();
    let owner_t = user_token(&api, &owner).await;
    let listing = listing(&api, &owner_t).await;
    let renters: Vec<String> = (0..2).map(|_| new_user()).collect();
    let mut renter_tokens = Vec::new();
    for r in &renters {
        renter_tokens.push(user_token(&api, r).await);
    }

    // The booking-events queue disappears: every write still commits, its events wait.
    let queue_url = runner.reference("BookingEventsQueue");
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    sqs.delete_queue().queue_url(&queue_url).send().await.unwrap();

    let store = shared::adapters::dynamodb::DynamoTable::new(db.clone(), table.clone());
    let mut bookings = Vec::new();
    for (i, token) in renter_tokens.iter().enumerate() {
        let start = day(10 + 3 * i as i64);
        let b = post(
            &api,
            token,
            "/bookings",
            json!({"listing_id": listing, "start_date": start, "end_date": start + chrono::Duration::days(2)}),
        )
        .await;
        let id = b["id"].as_str().unwrap().to_owned();
        post(&api, &owner_t, &format!("/bookings/{id}/accept"), json!({})).await;
        let booking_id = shared::domain::booking::BookingId::parse(&id).unwrap();
        shared::bookings::confirm_payment(&store, &booking_id, Utc::now()).await.unwrap();
        post(&api, token, &format!("/bookings/{id}/cancel"), json!({"reason": "plans changed"})).await;
        bookings.push(id);
    }

    // Back, as it was (same name, so the same URL).
    let name = queue_url.rsplit('/').next().unwrap();
    let keep = ["FifoQueue", "DeduplicationScope", "FifoThroughputLimit", "VisibilityTimeout", "RedrivePolicy"];
    let mut create = sqs.create_queue().queue_name(name);
    for (k, v) in &attributes {
        if keep.contains(&k.as_str()) {
            create = create.attributes(k.clone(), v);
        }
    }
    create.send().await.unwrap();

    let expected = ["booking.requested", "booking.accepted", "booking.confirmed", "booking.cancelled"];
    for (id, renter) in bookings.iter().zip(&renters) {
        for user in [renter, &owner] {
            let kinds = eventually(Duration::from_secs(30), "every notification", || async {
                let kinds = notified(&db, &table, user, id).await;
                (kinds.len() >= expected.len()).then_some(kinds)
            })
            .await;
            assert_eq!(kinds, expected, "once each, in order ({user})");
        }
        assert_eq!(trail(&db, &table, id).await, expected, "in the trail once each, with the changes");
    }
    // Nothing more arrives later (a second delivery would be a duplicate).
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (id, renter) in bookings.iter().zip(&renters) {
        assert_eq!(notified(&db, &table, renter, id).await.len(), expected.len());
        assert_eq!(trail(&db, &table, id).await.len(), expected.len());
    }
    let stats: Value = http().get(format!("{api}/_local/stats")).send().await.unwrap().json().await.unwrap();
    let stream = publisher_stream(&stats);
    assert!(stream["retries"].as_u64().unwrap() > 0, "the outage was retried through: {stream}");
    assert_eq!(stream["records_sent_to_on_failure"], 0, "{stream}");
}

#[tokio::test]
async fn a_poison_record_is_set_aside_after_its_retries_and_the_rest_flows_on() {
    let runner = PrivateRunner::start("poison").await;
    let api = runner.api.clone();
    let config = aws_config(&env().aws_endpoint).await;
    let (db, sqs) = (aws_sdk_dynamodb::Client::new(&config), aws_sdk_sqs::Client::new(&config));
    let table = runner.reference("Table");

    // An outbox item no event can be read from, then good events right behind it.
    db.put_item()
        .table_name(&table)
        .item("PK", s(format!("AUDIT#booking/{}", uuid::Uuid::new_v4())))
        .item("SK", s(format!("EVT#{}#{}", Utc::now().to_rfc3339(), uuid::Uuid::now_v7())))
        .item("entity", s("audit"))
        .item("event", s("{\"not\": \"an event\"}"))
        .send()
        .await
        .unwrap();
    let (owner, renter) = (new_user(), new_user());
    let owner_t = user_token(&api, &owner).await;
    let listing = listing(&api, &owner_t).await;
    let start = day(20);
    let b = post(
        &api,
        &user_token(&api, &renter).await,
        "/bookings",
        json!({"listing_id": listing, "start_date": start, "end_date": start + chrono::Duration::days(1)}),
    )
    .await;
    let id = b["id"].as_str().unwrap().to_owned();

    let failures = runner.reference("EventStreamFailuresQueue");
    let message = eventually(Duration::from_secs(60), "the batch info on the failure queue", || async {
        let out = sqs.receive_message().queue_url(&failures).send().await.ok()?;
        out.messages.unwrap_or_default().into_iter().next()
    })
    .await;
    let info: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    assert_eq!(info["requestContext"]["condition"], "RetryAttemptsExhausted", "{info}");
    let batch = &info["DDBStreamBatchInfo"];
    assert_eq!(batch["batchSize"], 1, "bisected down to the poison record alone: {info}");
    assert_eq!(batch["startSequenceNumber"], batch["endSequenceNumber"]);

    let told = eventually(Duration::from_secs(30), "the owner told of the booking", || async {
        let kinds = notified(&db, &table, &owner, &id).await;
        (!kinds.is_empty()).then_some(kinds)
    })
    .await;
    assert_eq!(told, ["booking.requested"], "the record behind the poison one was delivered");
    let stats: Value = http().get(format!("{api}/_local/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(publisher_stream(&stats)["records_sent_to_on_failure"], 1, "{stats}");
}

#[tokio::test]
async fn a_replayed_stream_batch_delivers_nothing_twice() {
    let api = &env().api;
    let db = table().await;
    let table = env().reference("Table");
    let (owner, renter) = (new_user(), new_user());
    let listing = listing(api, &user_token(api, &owner).await).await;
    let start = day(40);
    let b = post(
        api,
        &user_token(api, &renter).await,
        "/bookings",
        json!({"listing_id": listing, "start_date": start, "end_date": start + chrono::Duration::days(1)}),
    )
    .await;
    let id = b["id"].as_str().unwrap().to_owned();
    // A poison record the test beside this one writes holds the stream up to its 20 retries.
    eventually(Duration::from_secs(60), "the first delivery", || async {
        (notified(&db, &table, &owner, &id).await.len() == 1).then_some(())
    })
    .await;

    // The stream's record of that event, as Lambda would hand it over again.
    let outbox = items(&db, &table, &format!("AUDIT#booking/{id}"), "EVT#").await;
    assert_eq!(outbox.len(), 1, "one event written with the booking");
    let image: serde_json::Map<String, Value> = outbox[0]
        .iter()
        .map(|(k, v)| {
            let value = match v {
                AttributeValue::N(n) => json!({ "N": n }),
                other => json!({ "S": other.as_s().unwrap() }),
            };
            (k.clone(), value)
        })
        .collect();
    let record = json!({"eventID": "replay", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "eu-central-1", "eventSourceARN": "arn:aws:dynamodb:eu-central-1:123456789012:table/t/stream/x",
        "dynamodb": {"ApproximateCreationDateTime": Utc::now().timestamp(), "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image, "SequenceNumber": "1", "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"}});
    for _ in 0..2 {
        let v: Value = http()
            .post(format!("{api}/_local/functions/PublishEventsFunction/invoke"))
            .json(&json!({ "Records": [record] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["response"]["batchItemFailures"], json!([]), "{v}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(notified(&db, &table, &owner, &id).await, vec!["booking.requested"], "still once");
    assert_eq!(notified(&db, &table, &renter, &id).await, vec!["booking.requested"]);
    assert_eq!(trail(&db, &table, &id).await.len(), 1, "one audit entry");
}

/// `publish-events`' stream source in the runner's stats (the indexer reads the stream too).
fn publisher_stream(stats: &Value) -> &Value {
    let streams = stats["streams"].as_array().expect("stream sources");
    streams.iter().find(|s| s["function"] == "PublishEventsFunction").expect("publish-events' stream source")
}
