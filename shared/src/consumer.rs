//! SQS consumers: process a batch record by record and report partial batch failures, so
//! only the failed messages are retried (and reach the DLQ after `maxReceiveCount`).
//!
//! Also the runtime loops of S3 notifications and DynamoDB streams.
//! Handlers must be idempotent: SQS, S3 and streams deliver at least once.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::LambdaEvent;
use tracing::Instrument;

use crate::error::AppError;

/// What a message handler returns, boxed so the runtime loop compiles once, in this crate
/// (see `http::HandlerFuture`).
pub type MessageFuture<'a> = Pin<Box<dyn Future<Output = Result<(), AppError>> + Send + 'a>>;

/// Runs `handler` for each SQS batch until the runtime shuts down.
pub async fn run<'a, F, Fut>(handler: &'a F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(SqsMessage) -> Fut + Sync + 'a,
    Fut: Future<Output = Result<(), AppError>> + Send + 'a,
{
    serve_sqs(&move |message| -> MessageFuture<'a> { Box::pin(handler(message)) }).await
}

fn serve_sqs<'h, 'a: 'h>(
    handler: &'h (dyn Fn(SqsMessage) -> MessageFuture<'a> + Sync + 'a),
) -> Pin<Box<dyn Future<Output = Result<(), lambda_runtime::Error>> + 'h>> {
    Box::pin(lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let span = crate::telemetry::invocation_span(&event.context);
        Ok::<_, std::convert::Infallible>(process_batch(event.payload, handler).instrument(span).await)
    })))
}

/// Processes every record; failures are reported by message id. On FIFO queues a failure
/// also fails the later messages of its message group in this batch, so order holds.
pub async fn process_batch<F, Fut>(event: SqsEvent, handler: &F) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut + ?Sized,
    Fut: Future<Output = Result<(), AppError>>,
{
    let mut failed_groups: HashSet<String> = HashSet::new();
    let mut failures = Vec::new();
    let total = event.records.len();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let group = message.attributes.get("MessageGroupId").cloned();
        let receive_count = message.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_default();
        if let Some(g) = &group {
            if failed_groups.contains(g) {
                tracing::warn!(message_id = %id, "skipped: an earlier message of its group failed");
                failures.push(failure(id));
                continue;
            }
        }
        match handler(message).await {
            Ok(()) => tracing::info!(message_id = %id, receive_count = %receive_count, "message processed"),
            Err(err) => {
                let source = std::error::Error::source(&err).map(|s| s.to_string()).unwrap_or_default();
                tracing::error!(message_id = %id, receive_count = %receive_count, code = err.code(), error = %err, source = %source, "message failed; will be retried");
                if let Some(g) = group {
                    failed_groups.insert(g);
                }
                failures.push(failure(id));
            }
        }
    }
    tracing::info!(records = total, failed = failures.len(), "batch done");
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

/// Runs `handler` for each S3 notification (S3 invokes asynchronously: a failed invocation is
/// retried by Lambda and then goes to the function's on-failure destination, a DLQ).
pub async fn run_s3<'a, F, Fut>(handler: &'a F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(S3Event) -> Fut + Sync + 'a,
    Fut: Future<Output = Result<(), AppError>> + Send + 'a,
{
    serve_s3(&move |event| -> MessageFuture<'a> { Box::pin(handler(event)) }).await
}

fn serve_s3<'h, 'a: 'h>(
    handler: &'h (dyn Fn(S3Event) -> MessageFuture<'a> + Sync + 'a),
) -> Pin<Box<dyn Future<Output = Result<(), lambda_runtime::Error>> + 'h>> {
    Box::pin(lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<S3Event>| async move {
        let span = crate::telemetry::invocation_span(&event.context);
        async move {
            handler(event.payload).await.map_err(|err| {
                let source = std::error::Error::source(&err).map(|s| s.to_string()).unwrap_or_default();
                tracing::error!(code = err.code(), error = %err, source = %source, "S3 event failed; Lambda retries it");
                lambda_runtime::Error::from(err.to_string())
            })
        }
        .instrument(span)
        .await
    })))
}

/// What a stream handler returns, boxed like [`MessageFuture`].
pub type StreamFuture<'a> = Pin<Box<dyn Future<Output = Result<DynamoDbEventResponse, AppError>> + Send + 'a>>;

/// Runs `handler` for each DynamoDB stream batch, read as `T` (the full `DynamoDbEvent`, or a
/// consumer's leaner view of the same JSON). The handler reports the first record it could
/// not process as a batch item failure (Lambda checkpoints before it and retries from it), or
/// fails the invocation when that is the first record, so Lambda bisects the batch and isolates
/// a poison record.
pub async fn run_stream<'a, T, F, Fut>(handler: &'a F) -> Result<(), lambda_runtime::Error>
where
    T: serde::de::DeserializeOwned + Send + 'static,
    F: Fn(T) -> Fut + Sync + 'a,
    Fut: Future<Output = Result<DynamoDbEventResponse, AppError>> + Send + 'a,
{
    serve_stream(&move |batch| -> StreamFuture<'a> { Box::pin(handler(batch)) }).await
}

/// A stream batch's answer when its records before `first_failed` are done: all done; the
/// failed record and those after it retried (a partial batch failure naming its sequence
/// number); or, when the first record failed, a failed invocation (`nothing_done`), so Lambda
/// bisects the batch.
pub fn stream_response(
    batch: &DynamoDbEvent,
    first_failed: usize,
    nothing_done: &str,
) -> Result<DynamoDbEventResponse, AppError> {
    let failed = batch.records.get(first_failed).map(|r| r.change.sequence_number.clone());
    stream_response_at(first_failed, failed, nothing_done)
}

/// [`stream_response`] for any view of the batch: `failed` is the first failed record's
/// sequence number, `None` when every record was done.
pub fn stream_response_at(
    first_failed: usize,
    failed: Option<Option<String>>,
    nothing_done: &str,
) -> Result<DynamoDbEventResponse, AppError> {
    let mut response = DynamoDbEventResponse::default();
    match failed {
        None => {}
        Some(_) if first_failed == 0 => return Err(AppError::internal(nothing_done.to_owned())),
        Some(sequence_number) => {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence_number;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

fn serve_stream<'h, 'a: 'h, T: serde::de::DeserializeOwned + Send + 'static>(
    handler: &'h (dyn Fn(T) -> StreamFuture<'a> + Sync + 'a),
) -> Pin<Box<dyn Future<Output = Result<(), lambda_runtime::Error>> + 'h>> {
    Box::pin(lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<T>| async move {
        let span = crate::telemetry::invocation_span(&event.context);
        async move {
            handler(event.payload).await.map_err(|err| {
                let source = std::error::Error::source(&err).map(|s| s.to_string()).unwrap_or_default();
                tracing::error!(code = err.code(), error = %err, source = %source, "stream batch failed; Lambda retries it");
                lambda_runtime::Error::from(err.to_string())
            })
        }
        .instrument(span)
        .await
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, body: &str, group: Option<&str>) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_owned());
        m.body = Some(body.to_owned());
        if let Some(g) = group {
            m.attributes.insert("MessageGroupId".into(), g.into());
        }
        m
    }

    fn batch(messages: Vec<SqsMessage>) -> SqsEvent {
        let mut e = SqsEvent::default();
        e.records = messages;
        e
    }

    async fn fail_on_bad(m: SqsMessage) -> Result<(), AppError> {
        if m.body.as_deref() == Some("bad") {
            Err(AppError::bad_request("bad", "bad"))
        } else {
            Ok(())
        }
    }

    #[tokio::test]
    async fn reports_only_failed_messages() {
        let resp = process_batch(
            batch(vec![message("1", "ok", None), message("2", "bad", None), message("3", "ok", None)]),
            &fail_on_bad,
        )
        .await;
        let ids: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(ids, vec!["2"]);
    }

    #[tokio::test]
    async fn fifo_failure_fails_rest_of_group() {
        let resp = process_batch(
            batch(vec![message("1", "bad", Some("a")), message("2", "ok", Some("a")), message("3", "ok", Some("b"))]),
            &fail_on_bad,
        )
        .await;
        let ids: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(ids, vec!["1", "2"]);
    }
}
