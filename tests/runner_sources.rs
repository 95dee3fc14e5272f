//! The runner's S3 and Schedule event sources, end to end through moto: an object put in a
//! bucket reaches the function as an S3 event `aws_lambda_events` parses (moto's TestEvent
//! skipped, `userIdentity` supplied, the key form-urlencoded as S3 sends it), and a `rate()`
//! schedule fires.

use std::time::Duration;

use aws_lambda_events::event::s3::S3Event;
use integration_tests::{aws_config, env, eventually, PrivateRunner};
use serde_json::Value;

fn recorded(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

#[tokio::test]
async fn s3_uploads_and_schedules_reach_the_function() {
    let root = std::env::var("PROJECT_ROOT").expect("PROJECT_ROOT: run scripts/test");
    let record = std::env::temp_dir().join(format!("recorder-{}.jsonl", uuid::Uuid::new_v4()));
    let record = record.to_str().unwrap().to_owned();
    let runner = PrivateRunner::start_with(
        "sources",
        &format!("{root}/tests/fixtures/runner-sources.yaml"),
        &["--param".into(), format!("RecordFile={record}"), "--schedule-period-secs".into(), "1".into()],
    )
    .await;
    let config = aws_config(&env().aws_endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
    let bucket = runner.reference("DropBucket");
    let key = "uploads/red bike+helmet.jpg";
    s3.put_object().bucket(&bucket).key(key).body(b"abc".to_vec().into()).send().await.unwrap();
    s3.put_object().bucket(&bucket).key("elsewhere/not-for-us.txt").body(b"x".to_vec().into()).send().await.unwrap();

    let event: S3Event = eventually(Duration::from_secs(20), "the S3 event", || async {
        recorded(&record)
            .into_iter()
            .find(|e| e.get("Records").is_some())
            .map(|e| serde_json::from_value(e).expect("an S3Event aws_lambda_events parses"))
    })
    .await;
    let object = &event.records[0].s3.object;
    let raw_key = object.key.clone().unwrap();
    assert!(raw_key.contains('+') && !raw_key.contains(' '), "key arrives form-urlencoded: {raw_key}");
    let decoded: String = url::form_urlencoded::parse(format!("k={raw_key}").as_bytes()).next().unwrap().1.into_owned();
    assert_eq!(decoded, key);
    assert_eq!(event.records[0].s3.bucket.name.as_deref(), Some(bucket.as_str()));

    eventually(Duration::from_secs(20), "a scheduled event", || async {
        recorded(&record).into_iter().find(|e| e["detail-type"] == "Scheduled Event").map(|_| ())
    })
    .await;

    let all = recorded(&record);
    assert!(
        all.iter().all(|e| e.get("Event") != Some(&Value::from("s3:TestEvent"))),
        "TestEvent must not be delivered"
    );
    let s3_events: Vec<_> = all.iter().filter(|e| e.get("Records").is_some()).collect();
    assert_eq!(s3_events.len(), 1, "only the uploads/ prefix is delivered: {s3_events:?}");
    let _ = std::fs::remove_file(&record);
}
