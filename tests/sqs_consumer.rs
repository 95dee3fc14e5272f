//! An SQS consumer fed a good and a bad message in one batch: the good one is processed once
//! and deleted, the bad one is retried and lands in the DLQ after the redrive count.

use std::time::Duration;

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use integration_tests::{aws_config, env, eventually, PrivateRunner};
use serde_json::json;

#[tokio::test]
async fn partial_batch_failure_deletes_good_and_parks_bad_in_dlq() {
    // A stack of its own: its queues carry only this test's messages.
    let runner = PrivateRunner::start("sqs").await;
    let config = aws_config(&env().aws_endpoint).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let queue = runner.reference("BookingEventsQueue");
    let dlq = runner.reference("BookingEventsDLQ");
    let table = runner.reference("Table");

    // The notifications consumer: a new message's recipient is told once.
    let (booking, recipient) = (uuid::Uuid::now_v7(), uuid::Uuid::new_v4());
    let subject = format!("booking/{booking}");
    let good = json!({
        "id": uuid::Uuid::now_v7(), "type": "message.sent", "subject": subject,
        "occurred_at": "2026-11-21T12:00:00.000Z",
        "data": {"booking_id": booking, "listing_title": "Drill", "recipient_id": recipient,
                 "sender_id": uuid::Uuid::new_v4(), "message_id": uuid::Uuid::now_v7()}
    });
    let marker = uuid::Uuid::new_v4().to_string();
    sqs.send_message_batch()
        .queue_url(&queue)
        // A FIFO queue (decision 0029): each in a group of its own, so the bad one holds up nothing.
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("good")
                .message_body(good.to_string())
                .message_group_id(&subject)
                .message_deduplication_id(good["id"].as_str().unwrap())
                .build()
                .unwrap(),
        )
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("bad")
                .message_body(format!("not an event {marker}"))
                .message_group_id(format!("bad/{marker}"))
                .message_deduplication_id(&marker)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // The good event reaches its recipient's notifications.
    let pk = format!("USER#{recipient}");
    eventually(Duration::from_secs(20), "the notification", || async {
        let out = dynamodb
            .query()
            .table_name(&table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :n)")
            .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.clone()))
            .expression_attribute_values(":n", aws_sdk_dynamodb::types::AttributeValue::S("NOTIF#".into()))
            .send()
            .await
            .ok()?;
        (out.count == 1).then_some(())
    })
    .await;

    // The bad one is retried until the redrive policy (maxReceiveCount 5) moves it to the DLQ.
    let parked = eventually(Duration::from_secs(60), "the bad message in the DLQ", || async {
        let out = sqs.receive_message().queue_url(&dlq).max_number_of_messages(10).send().await.ok()?;
        out.messages.unwrap_or_default().into_iter().find(|m| m.body().unwrap_or("").contains(&marker))
    })
    .await;
    assert!(parked.body().unwrap().starts_with("not an event"));

    // Nothing is left on the source queue: the good one was deleted, not just ignored.
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    assert_eq!(attrs.get(&QueueAttributeName::ApproximateNumberOfMessages).map(String::as_str), Some("0"));
    assert_eq!(attrs.get(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible).map(String::as_str), Some("0"));

    // And the good event was notified exactly once despite the batch being retried around it.
    let out = dynamodb
        .query()
        .table_name(&table)
        .key_condition_expression("PK = :pk AND begins_with(SK, :n)")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
        .expression_attribute_values(":n", aws_sdk_dynamodb::types::AttributeValue::S("NOTIF#".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.count, 1);
}
