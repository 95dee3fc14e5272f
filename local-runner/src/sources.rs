//! Event sources: SQS queues polled and delivered in batches with ReportBatchItemFailures
//! semantics; S3 notifications (through an internal queue moto delivers to); Schedule rates.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::lambda::{FunctionPool, Outcome};

#[derive(Clone)]
pub struct SqsSource {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub queue_arn: String,
    pub region: String,
    pub batch_size: i32,
    pub report_failures: bool,
    /// How soon a failed message is visible again. Lambda leaves it to the queue's
    /// VisibilityTimeout; locally that would make a retry take minutes, so it is shortened.
    pub retry_after: Duration,
}

/// The Lambda SQS event record for one message.
fn record(message: &aws_sdk_sqs::types::Message, source: &SqsSource) -> Value {
    let attributes: serde_json::Map<String, Value> = message
        .attributes()
        .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone()))).collect())
        .unwrap_or_default();
    let message_attributes: serde_json::Map<String, Value> = message
        .message_attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.clone(), json!({ "stringValue": v.string_value(), "dataType": v.data_type(), "stringListValues": [], "binaryListValues": [] })))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body().unwrap_or(""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body().unwrap_or(""),
        "eventSource": "aws:sqs",
        "eventSourceARN": source.queue_arn,
        "awsRegion": source.region,
    })
}

/// Which message ids the function reported as failed; `None` means the whole batch failed.
pub fn failed_ids(outcome: &Outcome, report_failures: bool) -> Option<Vec<String>> {
    match outcome {
        Outcome::Response(bytes) if report_failures => {
            let v: Value = serde_json::from_slice(bytes).ok()?;
            match v.get("batchItemFailures") {
                Some(Value::Array(items)) => {
                    // Lambda treats a malformed entry as the whole batch failing.
                    let ids: Option<Vec<String>> = items
                        .iter()
                        .map(|i| i["itemIdentifier"].as_str().filter(|s| !s.is_empty()).map(str::to_owned))
                        .collect();
                    ids
                }
                None | Some(Value::Null) => Some(Vec::new()),
                Some(_) => None,
            }
        }
        Outcome::Response(_) => Some(Vec::new()),
        _ => None,
    }
}

/// Polls `source` forever, invoking `pool` with each batch.
pub async fn poll_sqs(source: SqsSource, pool: Arc<FunctionPool>) {
    loop {
        let received = source
            .client
            .receive_message()
            .queue_url(&source.queue_url)
            .max_number_of_messages(source.batch_size.clamp(1, 10))
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(err) => {
                tracing::warn!(queue = %source.queue_url, error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "receive failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let event = json!({ "Records": messages.iter().map(|m| record(m, &source)).collect::<Vec<_>>() });
        let outcome = pool.invoke(Bytes::from(event.to_string())).await;
        let all_ids: Vec<String> = messages.iter().filter_map(|m| m.message_id().map(str::to_owned)).collect();
        let failed = failed_ids(&outcome, source.report_failures).unwrap_or_else(|| all_ids.clone());
        settle(&source, &messages, &failed).await;
        tracing::info!(function = %pool.spec.logical_id, received = messages.len(), failed = failed.len(), "SQS batch delivered");
    }
}

/// Deletes what succeeded; makes what failed visible again after `retry_after`. The queue's
/// redrive policy moves a message to its DLQ once its receive count passes maxReceiveCount.
async fn settle(source: &SqsSource, messages: &[aws_sdk_sqs::types::Message], failed: &[String]) {
    let mut deletes = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let id = m.message_id().unwrap_or_default();
        let handle = m.receipt_handle().unwrap_or_default();
        if failed.iter().any(|f| f == id) {
            let _ = source
                .client
                .change_message_visibility()
                .queue_url(&source.queue_url)
                .receipt_handle(handle)
                .visibility_timeout(source.retry_after.as_secs() as i32)
                .send()
                .await;
        } else if let Ok(entry) =
            DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(handle).build()
        {
            deletes.push(entry);
        }
    }
    if !deletes.is_empty() {
        if let Err(err) =
            source.client.delete_message_batch().queue_url(&source.queue_url).set_entries(Some(deletes)).send().await
        {
            tracing::error!(queue = %source.queue_url, error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "delete failed; messages will be redelivered");
        }
    }
}

/// S3 notifications reach the runner through a queue moto writes to. This turns one such
/// message into the S3 events to deliver: moto's first message is an `s3:TestEvent` (none),
/// and its records lack `userIdentity`, which `aws_lambda_events::S3Event` requires.
pub fn s3_events_from_message(body: &str) -> Vec<Value> {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    if v["Event"] == "s3:TestEvent" {
        return Vec::new();
    }
    let Some(records) = v.get_mut("Records").and_then(Value::as_array_mut) else {
        return Vec::new();
    };
    records
        .iter_mut()
        .map(|r| {
            for (key, default) in [
                ("userIdentity", json!({ "principalId": "local" })),
                ("requestParameters", json!({ "sourceIPAddress": "127.0.0.1" })),
                ("responseElements", json!({ "x-amz-request-id": "local", "x-amz-id-2": "local" })),
            ] {
                if r.get(key).map(Value::is_null).unwrap_or(true) {
                    r[key] = default;
                }
            }
            json!({ "Records": [r.clone()] })
        })
        .collect()
}

/// S3 invokes Lambda asynchronously: an error is retried twice, then the event is dropped
/// (or, in AWS, sent to the function's on-failure destination).
pub async fn poll_s3(source: SqsSource, pool: Arc<FunctionPool>) {
    const ATTEMPTS: u32 = 3;
    loop {
        let received = source
            .client
            .receive_message()
            .queue_url(&source.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await;
        let Ok(out) = received else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        for message in out.messages.unwrap_or_default() {
            let receives: u32 = message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            let mut ok = true;
            for event in s3_events_from_message(message.body().unwrap_or("")) {
                if !matches!(pool.invoke(Bytes::from(event.to_string())).await, Outcome::Response(_)) {
                    ok = false;
                }
            }
            let handle = message.receipt_handle().unwrap_or_default();
            if ok || receives >= ATTEMPTS {
                if !ok {
                    tracing::error!(function = %pool.spec.logical_id, attempts = receives, "S3 event failed on every attempt; dropped");
                }
                let _ = source.client.delete_message().queue_url(&source.queue_url).receipt_handle(handle).send().await;
            } else {
                let _ = source
                    .client
                    .change_message_visibility()
                    .queue_url(&source.queue_url)
                    .receipt_handle(handle)
                    .visibility_timeout(source.retry_after.as_secs() as i32)
                    .send()
                    .await;
            }
        }
    }
}

/// Fires a scheduled function every `every`, with an EventBridge "Scheduled Event".
pub async fn schedule(pool: Arc<FunctionPool>, every: Duration, input: Option<Value>, region: String, account: String) {
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await; // the first tick is immediate; rules fire after one period
    loop {
        ticker.tick().await;
        let event = input.clone().unwrap_or_else(|| {
            json!({
                "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": account, "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "region": region,
                "resources": [format!("arn:aws:events:{region}:{account}:rule/{}", pool.spec.name)], "detail": {}
            })
        });
        let outcome = pool.invoke(Bytes::from(event.to_string())).await;
        tracing::info!(function = %pool.spec.logical_id, ok = matches!(outcome, Outcome::Response(_)), "schedule fired");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_failures() {
        let ok = Outcome::Response(Bytes::from_static(br#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#));
        assert_eq!(failed_ids(&ok, true), Some(vec!["b".to_owned()]));
        assert_eq!(failed_ids(&ok, false), Some(vec![]), "without ReportBatchItemFailures the response is ignored");
        assert_eq!(failed_ids(&Outcome::Response(Bytes::from_static(b"{}")), true), Some(vec![]));
        assert_eq!(
            failed_ids(
                &Outcome::Response(Bytes::from_static(br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#)),
                true
            ),
            None
        );
        assert_eq!(failed_ids(&Outcome::FunctionError(json!({})), true), None);
    }

    #[test]
    fn s3_quirks() {
        assert!(s3_events_from_message(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#).is_empty());
        let events = s3_events_from_message(
            r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-central-1","eventTime":"2026-11-21T12:00:00.000Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"c","bucket":{"name":"b","arn":"arn:aws:s3:::b","ownerIdentity":{"principalId":"x"}},"object":{"key":"uploads/a+b.jpg","size":3,"eTag":"e","sequencer":"1"}}}]}"#,
        );
        assert_eq!(events.len(), 1);
        let parsed: aws_lambda_events::event::s3::S3Event =
            serde_json::from_value(events[0].clone()).expect("S3Event parses once userIdentity is there");
        assert_eq!(parsed.records[0].s3.object.key.as_deref(), Some("uploads/a+b.jpg"));
    }
}
