//! The local stack enforces IAM as AWS does (decision 0028): a call a role does not allow gets
//! AWS's error and writes nothing, for single items, transactions and S3 objects alike.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use integration_tests::{env, http, new_user, token_for, PrivateRunner};
use serde_json::json;

/// Registers a role of the test's own with the moto launcher; returns its client config.
async fn principal(statements: serde_json::Value) -> aws_config::SdkConfig {
    let key = format!("ASIATEST{}", &uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase());
    let spec = json!({ &key: { "arn": "arn:aws:sts::123456789012:assumed-role/iam-test/test", "policies": [{ "Statement": statements }] } });
    let resp = http().post(format!("{}/_local_iam/principals", env().aws_endpoint)).json(&spec).send().await.unwrap();
    assert_eq!(resp.status(), 204, "the launcher takes the role");
    integration_tests::aws_config_as(&env().aws_endpoint, &key).await
}

fn item(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [("PK", pk), ("SK", "IAMTEST")].into_iter().map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned()))).collect()
}

async fn stored(pk: &str) -> bool {
    let admin = aws_sdk_dynamodb::Client::new(&integration_tests::aws_config(&env().aws_endpoint).await);
    let key = item(pk);
    admin.get_item().table_name(env().reference("Table")).set_key(Some(key)).send().await.unwrap().item.is_some()
}

#[tokio::test]
async fn dynamodb_calls_outside_the_role_are_denied_and_write_nothing() {
    let table = env().reference("Table");
    let table_arn = env().attribute("Table", "Arn");
    let config = principal(json!([{
        "Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_arn,
        "Condition": { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["LISTING#*"] } }
    }]))
    .await;
    let db = aws_sdk_dynamodb::Client::new(&config);
    let id = uuid::Uuid::new_v4();
    let (allowed, denied) = (format!("LISTING#{id}"), format!("BOOKING#{id}"));

    db.put_item().table_name(&table).set_item(Some(item(&allowed))).send().await.expect("a granted write passes");
    assert!(stored(&allowed).await);

    let err = db.put_item().table_name(&table).set_item(Some(item(&denied))).send().await.unwrap_err();
    let err = err.into_service_error();
    assert_eq!(err.meta().code(), Some("AccessDeniedException"), "{err:?}");
    let message = err.meta().message().unwrap_or_default();
    assert!(message.contains(&format!("dynamodb:PutItem on resource: {table_arn}")), "{message}");
    assert!(!stored(&denied).await, "a denied write wrote");

    let get = db.get_item().table_name(&table).set_key(Some(item(&allowed))).send().await.unwrap_err();
    assert_eq!(get.into_service_error().meta().code(), Some("AccessDeniedException"), "an action not granted");

    // One item outside the grant denies the whole transaction: neither is written.
    let other = format!("LISTING#{}", uuid::Uuid::new_v4());
    let put = |pk: &str| {
        TransactWriteItem::builder()
            .put(Put::builder().table_name(&table).set_item(Some(item(pk))).build().unwrap())
            .build()
    };
    let err =
        db.transact_write_items().transact_items(put(&other)).transact_items(put(&denied)).send().await.unwrap_err();
    assert_eq!(err.into_service_error().meta().code(), Some("AccessDeniedException"));
    assert!(!stored(&other).await && !stored(&denied).await, "a denied transaction wrote");
}

#[tokio::test]
async fn s3_objects_outside_the_role_are_denied_and_not_written() {
    let bucket = env().reference("UploadsBucket");
    let config = principal(json!([{
        "Effect": "Allow", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/uploads/listings/*")
    }]))
    .await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
    let id = uuid::Uuid::new_v4();
    let (allowed, denied) = (format!("uploads/listings/{id}/a.jpg"), format!("uploads/other/{id}/a.jpg"));
    s3.put_object().bucket(&bucket).key(&allowed).body(b"x".to_vec().into()).send().await.expect("granted");
    let err = s3.put_object().bucket(&bucket).key(&denied).body(b"x".to_vec().into()).send().await.unwrap_err();
    let err = err.into_service_error();
    assert_eq!(err.meta().code(), Some("AccessDenied"), "{err:?}");

    let admin = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&integration_tests::aws_config(&env().aws_endpoint).await)
            .force_path_style(true)
            .build(),
    );
    assert!(admin.head_object().bucket(&bucket).key(&allowed).send().await.is_ok());
    assert!(admin.head_object().bucket(&bucket).key(&denied).send().await.is_err(), "a denied upload was stored");
}

#[tokio::test]
async fn a_missing_object_is_403_without_list_bucket_and_404_with_it() {
    let bucket = env().reference("UploadsBucket");
    let read =
        json!({ "Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/uploads/*") });
    let list = json!({ "Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{bucket}") });
    let missing = format!("uploads/listings/{}/gone.jpg", uuid::Uuid::new_v4());
    for (statements, expected) in [(json!([read]), 403), (json!([read, list]), 404)] {
        let config = principal(statements).await;
        let s3 =
            aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
        let err = s3.get_object().bucket(&bucket).key(&missing).send().await.unwrap_err();
        let status = err.raw_response().map(|r| r.status().as_u16());
        assert_eq!(status, Some(expected), "{err:?}");
    }
}

#[tokio::test]
async fn a_function_whose_role_lacks_an_action_fails_as_in_aws_and_writes_nothing() {
    // GET /me creates the caller's profile on first call (GetItem, then PutItem): with PutItem
    // taken out of its role, the call fails on the write and no profile exists.
    let root = std::env::var("PROJECT_ROOT").expect("PROJECT_ROOT: run scripts/test");
    let translated = std::env::var("RENTAL_TRANSLATED_TEMPLATE").expect("RENTAL_TRANSLATED_TEMPLATE: run scripts/test");
    let mut template: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(translated).unwrap()).unwrap();
    let policies = template["Resources"]["GetMeFunctionRole"]["Properties"]["Policies"].as_array_mut().unwrap();
    let mut removed = 0;
    for statement in policies.iter_mut().flat_map(|p| p["PolicyDocument"]["Statement"].as_array_mut().unwrap()) {
        if let Some(actions) = statement["Action"].as_array_mut() {
            let before = actions.len();
            actions.retain(|a| a != "dynamodb:PutItem");
            removed += before - actions.len();
        }
    }
    assert_eq!(removed, 1, "GetMeFunction's role grants dynamodb:PutItem once");
    let path = std::env::temp_dir().join(format!("iam-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, template.to_string()).unwrap();
    let extra = ["--iam".to_owned(), path.display().to_string(), "--no-event-sources".to_owned()];
    let runner = PrivateRunner::start_with("iam", &format!("{root}/template.yaml"), &extra).await;

    let user = new_user();
    let token = token_for(&runner.api, json!({ "sub": user, "name": "Denied", "email": "denied@example.test" })).await;
    let resp = http().get(format!("{}/me", runner.api)).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), 500, "AccessDenied on the write is a fault, as in AWS");

    let admin = aws_sdk_dynamodb::Client::new(&integration_tests::aws_config(&env().aws_endpoint).await);
    let found = admin
        .query()
        .table_name(runner.reference("Table"))
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{user}")))
        .send()
        .await
        .unwrap();
    assert_eq!(found.count(), 0, "a denied function wrote its profile");
    let _ = std::fs::remove_file(path);
}
