//! The shared secret cache over the real Secrets Manager adapter, against moto: values are
//! cached for the TTL and a rotated value is picked up after it, without a restart.

use std::time::Duration;

use integration_tests::{aws_config, env};
use shared::adapters::secrets_manager::SecretsManagerSource;
use shared::secrets::SecretCache;

#[tokio::test]
async fn rotation_is_picked_up_after_the_ttl() {
    let config = aws_config(&env().aws_endpoint).await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!("test/{}", uuid::Uuid::new_v4());
    client.create_secret().name(&name).secret_string(r#"{"secret_key":"sk_one"}"#).send().await.unwrap();

    let cache = SecretCache::new(SecretsManagerSource::new(client.clone()), Duration::from_millis(500));
    assert_eq!(&*cache.get_json_field(&name, "secret_key").await.unwrap(), "sk_one");

    client.put_secret_value().secret_id(&name).secret_string(r#"{"secret_key":"sk_two"}"#).send().await.unwrap();
    assert_eq!(&*cache.get_json_field(&name, "secret_key").await.unwrap(), "sk_one", "cached within the TTL");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(&*cache.get_json_field(&name, "secret_key").await.unwrap(), "sk_two", "rotation picked up");

    let missing = cache.get("test/does-not-exist").await.unwrap_err();
    assert_eq!(missing.status(), 500, "a missing secret is a fault, not the caller's error");
}
