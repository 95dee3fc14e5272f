//! DynamoDB stream event sources, as Lambda's event source mapping runs them: records in shard
//! order, batches of `BatchSize` after `MaximumBatchingWindowInSeconds`, records no filter
//! matches dropped, partial batch failures honoured (the failed record and everything after it
//! is retried), a failed invocation bisected when `BisectBatchOnFunctionError` (bisecting
//! costs no retry), `MaximumRetryAttempts` and `MaximumRecordAgeInSeconds` applied, and a batch
//! that exhausts them described to the on-failure queue (Lambda's `DDBStreamBatchInfo`) with
//! the function's own credentials, then skipped.
//!
//! moto restores a table from a copy when a transaction fails, stream shard included, which
//! strands shard iterators taken before: each poll takes a fresh iterator after the checkpoint.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};

use crate::lambda::{FunctionPool, Outcome};
use crate::model::StreamSpec;

/// How long an idle source waits before reading its shard again.
const IDLE_POLL: Duration = Duration::from_millis(50);
/// Retries of a failed batch wait 100 ms, doubling up to 1 s (Lambda documents no delay).
const RETRY_BASE: Duration = Duration::from_millis(100);
const RETRY_CAP: Duration = Duration::from_secs(1);

/// moto's DynamoDB Streams API over plain JSON (signed as the runner's admin, like its other
/// calls; moto routes by the signing scope and `X-Amz-Target`).
pub struct StreamsApi {
    endpoint: String,
    region: String,
    http: shared::adapters::http_client::LazyClient,
}

impl StreamsApi {
    pub fn new(endpoint: &str, region: &str) -> Self {
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            http: shared::adapters::http_client::LazyClient::new(Duration::from_secs(10)),
        }
    }

    async fn call(&self, operation: &str, body: Value) -> Result<Value> {
        let date = chrono::Utc::now().format("%Y%m%d");
        let request = http::Request::post(format!("{}/", self.endpoint))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDBStreams_20120810.{operation}"))
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=local/{date}/{}/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
                    self.region
                ),
            )
            .body(http_body_util::Full::new(Bytes::from(body.to_string())))?;
        let response = self.http.send(request).await.with_context(|| format!("{operation} on moto"))?;
        if !response.status.is_success() {
            bail!("{operation}: {} {}", response.status, String::from_utf8_lossy(&response.body));
        }
        Ok(serde_json::from_slice(&response.body)?)
    }

    async fn shards(&self, stream_arn: &str) -> Result<Vec<String>> {
        let out = self.call("DescribeStream", json!({ "StreamArn": stream_arn })).await?;
        let shards = out["StreamDescription"]["Shards"].as_array().cloned().unwrap_or_default();
        Ok(shards.iter().filter_map(|s| s["ShardId"].as_str().map(str::to_owned)).collect())
    }

    /// Records of `shard` after `checkpoint` (from the start of the stream without one).
    async fn records_after(&self, stream_arn: &str, shard: &str, checkpoint: Option<&str>) -> Result<Vec<Value>> {
        let mut request = json!({ "StreamArn": stream_arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON" });
        if let Some(seq) = checkpoint {
            request["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
            request["SequenceNumber"] = json!(seq);
        }
        let iterator = self.call("GetShardIterator", request).await?["ShardIterator"].clone();
        let out = self.call("GetRecords", json!({ "ShardIterator": iterator, "Limit": 1000 })).await?;
        Ok(out["Records"].as_array().cloned().unwrap_or_default())
    }
}

/// What `/_local/stats` shows of one stream source.
#[derive(Debug, Default, Clone, Serialize)]
pub struct StreamStats {
    pub function: String,
    pub stream_arn: String,
    /// The last sequence number done with (delivered, filtered out or given up on).
    pub checkpoint: Option<String>,
    /// The newest sequence number seen in the shard.
    pub latest_sequence_number: Option<String>,
    /// Records after the checkpoint at the last read: how far behind the source is.
    pub records_behind: usize,
    /// Lambda's `IteratorAge`: the age of the last record of the last batch, when delivered.
    pub iterator_age_ms: u64,
    pub batches: u64,
    pub records_delivered: u64,
    pub records_filtered_out: u64,
    pub retries: u64,
    pub bisections: u64,
    pub records_sent_to_on_failure: u64,
}

pub struct StreamSource {
    pub spec: StreamSpec,
    pub api: Arc<StreamsApi>,
    pub region: String,
    /// The on-failure queue's URL and an SQS client with the function's credentials.
    pub on_failure: Option<(aws_sdk_sqs::Client, String)>,
    pub function_arn: String,
    pub stats: Arc<Mutex<StreamStats>>,
}

/// Reads every shard of the source's stream, one task each (moto keeps one per table).
pub async fn poll(source: Arc<StreamSource>, pool: Arc<FunctionPool>) {
    let shards = loop {
        match source.api.shards(&source.spec.stream_arn).await {
            Ok(s) => break s,
            Err(err) => {
                tracing::warn!(stream = %source.spec.stream_arn, error = %err, "describing the stream failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    for shard in shards {
        tokio::spawn(poll_shard(source.clone(), pool.clone(), shard));
    }
}

async fn poll_shard(source: Arc<StreamSource>, pool: Arc<FunctionPool>, shard: String) {
    let spec = &source.spec;
    let mut checkpoint = match spec.starting_position.as_str() {
        "LATEST" => latest(&source, &shard).await,
        _ => None,
    };
    loop {
        let records = match source.api.records_after(&spec.stream_arn, &shard, checkpoint.as_deref()).await {
            Ok(r) => r,
            Err(err) => {
                tracing::warn!(stream = %spec.stream_arn, error = %err, "reading the shard failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let (batch, through) = next_batch(&records, spec, &source.stats);
        if let Some(last) = records.last() {
            let mut stats = lock(&source.stats);
            stats.latest_sequence_number = sequence(last).map(str::to_owned);
            stats.records_behind = records.len();
        }
        if batch.is_empty() {
            if through.is_some() {
                checkpoint = through; // only filtered-out records: done with them
                continue;
            }
            tokio::time::sleep(IDLE_POLL).await;
            continue;
        }
        // The batching window: wait for a fuller batch, up to the window, from the first record.
        if batch.len() < spec.batch_size && !spec.batching_window.is_zero() {
            let waited = first_arrival_age(&batch);
            if waited < spec.batching_window {
                tokio::time::sleep((spec.batching_window - waited).min(IDLE_POLL * 4)).await;
                continue;
            }
        }
        deliver(&source, &pool, batch).await;
        lock(&source.stats).checkpoint.clone_from(&through);
        checkpoint = through;
    }
}

/// The newest sequence number in `shard`: where `LATEST` starts.
async fn latest(source: &StreamSource, shard: &str) -> Option<String> {
    let mut checkpoint: Option<String> = None;
    while let Ok(records) = source.api.records_after(&source.spec.stream_arn, shard, checkpoint.as_deref()).await {
        match records.last().and_then(sequence) {
            Some(seq) => checkpoint = Some(seq.to_owned()),
            None => break,
        }
    }
    checkpoint
}

/// Up to `batch_size` records the filters pass, as Lambda delivers them, and the sequence
/// number through which the source is done once they are (filtered-out records included).
fn next_batch(records: &[Value], spec: &StreamSpec, stats: &Mutex<StreamStats>) -> (Vec<Value>, Option<String>) {
    let mut batch = Vec::new();
    let mut through = None;
    for record in records {
        if batch.len() == spec.batch_size {
            break;
        }
        through = sequence(record).map(str::to_owned);
        if spec.filters.is_empty() || spec.filters.iter().any(|f| matches(f, record)) {
            batch.push(record.clone());
        } else {
            lock(stats).records_filtered_out += 1;
        }
    }
    (batch, through)
}

fn sequence(record: &Value) -> Option<&str> {
    record["dynamodb"]["SequenceNumber"].as_str()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn created(record: &Value) -> f64 {
    record["dynamodb"]["ApproximateCreationDateTime"].as_f64().unwrap_or(0.0)
}

fn age(record: &Value) -> Duration {
    let now = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
    Duration::from_secs_f64((now - created(record)).max(0.0))
}

fn first_arrival_age(batch: &[Value]) -> Duration {
    batch.first().map(age).unwrap_or_default()
}

/// How one invocation of a batch ended.
#[derive(Debug, PartialEq)]
enum Answer {
    Done,
    /// Retry from this position (a reported item failure).
    RetryFrom(usize),
    /// The invocation failed: the whole batch.
    Failed,
}

/// Lambda's reading of the function's answer to a batch (ReportBatchItemFailures): the lowest
/// reported sequence number is where the retry starts; an identifier that is empty or not in
/// the batch fails it whole; no failures is success.
fn outcome(outcome: &Outcome, batch: &[Value], report_failures: bool) -> Answer {
    let Outcome::Response(bytes) = outcome else { return Answer::Failed };
    if !report_failures {
        return Answer::Done;
    }
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else { return Answer::Done };
    let failures = match &v["batchItemFailures"] {
        Value::Array(items) if !items.is_empty() => items,
        Value::Array(_) | Value::Null => return Answer::Done,
        _ => return Answer::Failed,
    };
    let mut first = usize::MAX;
    for f in failures {
        let id = f["itemIdentifier"].as_str().unwrap_or("");
        match batch.iter().position(|r| sequence(r) == Some(id)) {
            Some(i) if !id.is_empty() => first = first.min(i),
            _ => return Answer::Failed,
        }
    }
    Answer::RetryFrom(first)
}

/// Delivers `batch` until it is done, its records are too old, or its retries run out (then
/// the on-failure destination hears of what is left). Bisected halves go in order.
async fn deliver(source: &StreamSource, pool: &Arc<FunctionPool>, batch: Vec<Value>) {
    let spec = &source.spec;
    let mut pending: VecDeque<(Vec<Value>, u32)> = VecDeque::from([(batch, 0)]);
    while let Some((mut records, mut retries)) = pending.pop_front() {
        loop {
            if spec.max_record_age.is_some_and(|max| age(&records[0]) > max) {
                give_up(source, &records, "RecordAgeExceeded", retries).await;
                break;
            }
            let event = json!({ "Records": records.iter().map(|r| lambda_record(r, source)).collect::<Vec<_>>() });
            let started = Instant::now();
            let result = outcome(&pool.invoke(Bytes::from(event.to_string())).await, &records, spec.report_failures);
            tracing::info!(function = %pool.spec.logical_id, records = records.len(), result = ?result, ms = started.elapsed().as_millis() as u64, "stream batch delivered");
            let done = match result {
                Answer::Done => records.len(),
                Answer::RetryFrom(i) => i,
                Answer::Failed if spec.bisect_on_error && records.len() > 1 => {
                    let second = records.split_off(records.len() / 2);
                    lock(&source.stats).bisections += 1;
                    pending.push_front((second, retries));
                    pending.push_front((records, retries));
                    break;
                }
                Answer::Failed => 0,
            };
            {
                let mut stats = lock(&source.stats);
                stats.records_delivered += done as u64;
                if done > 0 {
                    stats.batches += 1;
                    stats.iterator_age_ms = age(&records[done - 1]).as_millis() as u64;
                }
            }
            records.drain(..done);
            if records.is_empty() {
                break;
            }
            if spec.max_retries.is_some_and(|max| retries >= max) {
                give_up(source, &records, "RetryAttemptsExhausted", retries).await;
                break;
            }
            retries += 1;
            lock(&source.stats).retries += 1;
            tokio::time::sleep((RETRY_BASE * 2u32.saturating_pow(retries - 1)).min(RETRY_CAP)).await;
        }
    }
}

/// The record as Lambda hands it over: moto's, with the source's ARN and the real region.
fn lambda_record(record: &Value, source: &StreamSource) -> Value {
    let mut r = record.clone();
    r["eventSourceARN"] = json!(source.spec.stream_arn);
    r["awsRegion"] = json!(source.region);
    r
}

/// Describes `records` to the on-failure queue as Lambda does (the records themselves stay in
/// the stream), and moves on.
async fn give_up(source: &StreamSource, records: &[Value], condition: &str, retries: u32) {
    let (first, last) = (&records[0], &records[records.len() - 1]);
    let arrival = |r: &Value| {
        chrono::DateTime::from_timestamp_micros((created(r) * 1e6) as i64)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    };
    let info = json!({
        "requestContext": { "requestId": uuid::Uuid::new_v4().to_string(), "functionArn": source.function_arn,
            "condition": condition, "approximateInvokeCount": retries + 1 },
        "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
        "version": "1.0",
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "DDBStreamBatchInfo": { "shardId": "local", "startSequenceNumber": sequence(first),
            "endSequenceNumber": sequence(last), "approximateArrivalOfFirstRecord": arrival(first),
            "approximateArrivalOfLastRecord": arrival(last), "batchSize": records.len(),
            "streamArn": source.spec.stream_arn },
    });
    lock(&source.stats).records_sent_to_on_failure += records.len() as u64;
    tracing::error!(stream = %source.spec.stream_arn, condition, records = records.len(), start = ?sequence(first), "stream records given up on");
    if let Some((sqs, url)) = &source.on_failure {
        if let Err(err) = sqs.send_message().queue_url(url).message_body(info.to_string()).send().await {
            tracing::error!(queue = %url, error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "on-failure destination refused the batch info");
        }
    }
}

/// Lambda's event filtering (EventBridge patterns): every key of the pattern must match; a
/// list matches if any of its entries does: a value, or `prefix`, `exists`, `anything-but`.
pub fn matches(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(k, p)| matches(p, value.get(k).unwrap_or(&Value::Null))),
        Value::Array(options) => options.iter().any(|o| matches_one(o, value)),
        _ => false,
    }
}

fn matches_one(option: &Value, value: &Value) -> bool {
    match option {
        Value::Object(op) => match op.iter().next() {
            Some((k, Value::String(p))) if k == "prefix" => value.as_str().is_some_and(|v| v.starts_with(p.as_str())),
            Some((k, Value::Bool(want))) if k == "exists" => value.is_null() != *want,
            Some((k, not)) if k == "anything-but" => {
                !value.is_null() && !not.as_array().map_or(not == value, |list| list.contains(value))
            }
            _ => false,
        },
        literal => literal == value,
    }
}

/// Refuses a pattern using what [`matches`] does not model, at start rather than by silently
/// dropping records.
pub fn check_pattern(pattern: &Value) -> Result<()> {
    match pattern {
        Value::Object(fields) => fields.values().try_for_each(check_pattern),
        Value::Array(options) => options.iter().try_for_each(|o| match o {
            Value::Object(op) => match op.keys().next().map(String::as_str) {
                Some("prefix" | "exists" | "anything-but") if op.len() == 1 => Ok(()),
                _ => bail!("filter operator {o} is not emulated (prefix, exists and anything-but are)"),
            },
            _ => Ok(()),
        }),
        other => bail!("a filter pattern's leaves are lists, not {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: &str, name: &str, sk: &str) -> Value {
        json!({"eventName": name, "dynamodb": {"Keys": {"PK": {"S": "X#1"}, "SK": {"S": sk}}, "SequenceNumber": seq}})
    }

    #[test]
    fn filters_read_as_eventbridge_patterns() {
        let p = json!({"eventName": ["INSERT"], "dynamodb": {"Keys": {"SK": {"S": [{"prefix": "EVT#"}]}}}});
        check_pattern(&p).unwrap();
        assert!(matches(&p, &record("1", "INSERT", "EVT#a")));
        assert!(!matches(&p, &record("1", "REMOVE", "EVT#a")));
        assert!(!matches(&p, &record("1", "INSERT", "BOOKING")));
        let other =
            json!({"eventName": [{"anything-but": ["REMOVE"]}], "dynamodb": {"NewImage": {"x": [{"exists": false}]}}});
        assert!(matches(&other, &record("1", "MODIFY", "A")));
        assert!(!matches(&other, &record("1", "REMOVE", "A")));
        assert!(check_pattern(&json!({"n": [{"numeric": [">", 1]}]})).is_err());
    }

    #[test]
    fn batch_answers_read_as_lambda_reads_them() {
        let batch = vec![record("1", "INSERT", "E"), record("2", "INSERT", "E"), record("3", "INSERT", "E")];
        let answer = |s: &str| Outcome::Response(Bytes::from(s.to_owned()));
        assert_eq!(outcome(&answer(r#"{"batchItemFailures":[]}"#), &batch, true), Answer::Done);
        assert_eq!(
            outcome(&answer(r#"{"batchItemFailures":[{"itemIdentifier":"3"},{"itemIdentifier":"2"}]}"#), &batch, true),
            Answer::RetryFrom(1),
            "from the lowest"
        );
        assert_eq!(outcome(&answer(r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#), &batch, true), Answer::Failed);
        assert_eq!(outcome(&answer(r#"{"batchItemFailures":[{"itemIdentifier":"9"}]}"#), &batch, true), Answer::Failed);
        assert_eq!(outcome(&answer(r#"{"batchItemFailures":[{"itemIdentifier":"2"}]}"#), &batch, false), Answer::Done);
        assert_eq!(outcome(&Outcome::FunctionError(json!({})), &batch, true), Answer::Failed);
    }

    #[test]
    fn batches_skip_what_filters_drop_and_stop_at_the_size() {
        let spec = StreamSpec {
            stream_arn: "s".into(),
            starting_position: "TRIM_HORIZON".into(),
            batch_size: 2,
            batching_window: Duration::ZERO,
            bisect_on_error: true,
            max_retries: Some(1),
            max_record_age: None,
            report_failures: true,
            filters: vec![json!({"dynamodb": {"Keys": {"SK": {"S": [{"prefix": "EVT#"}]}}}})],
            on_failure: None,
        };
        let stats = Mutex::new(StreamStats::default());
        let records = vec![
            record("1", "INSERT", "B"),
            record("2", "INSERT", "EVT#1"),
            record("3", "INSERT", "B"),
            record("4", "INSERT", "EVT#2"),
            record("5", "INSERT", "EVT#3"),
        ];
        let (batch, through) = next_batch(&records, &spec, &stats);
        assert_eq!(batch.iter().map(|r| sequence(r).unwrap()).collect::<Vec<_>>(), vec!["2", "4"]);
        assert_eq!(through.as_deref(), Some("4"));
        assert_eq!(lock(&stats).records_filtered_out, 2);
    }
}
