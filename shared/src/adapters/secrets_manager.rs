//! Secrets Manager adapter behind [`crate::secrets::SecretSource`].

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;

use super::sdk_error;
use crate::error::AppError;
use crate::secrets::SecretSource;

#[derive(Clone, Debug)]
pub struct SecretsManagerSource {
    client: Client,
}

impl SecretsManagerSource {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl SecretSource for SecretsManagerSource {
    async fn fetch(&self, id: &str) -> Result<String, AppError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("secretsmanager", e))?;
        out.secret_string
            .ok_or_else(|| AppError::internal(format!("secret {id} has no string value")))
    }
}
