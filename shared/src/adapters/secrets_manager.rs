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
        let out =
            self.client.get_secret_value().secret_id(id).send().await.map_err(|e| sdk_error("secretsmanager", e))?;
        out.secret_string.ok_or_else(|| AppError::internal(format!("secret {id} has no string value")))
    }
}

/// Cursor signing key from a Secrets Manager secret (a plain random string), cached for the
/// secret cache's TTL so a rotation is picked up without a redeploy.
pub struct SecretCursorKeys {
    cache: crate::secrets::SecretCache<SecretsManagerSource>,
    secret_id: String,
}

impl SecretCursorKeys {
    pub fn new(client: Client, secret_id: String) -> Self {
        Self {
            cache: crate::secrets::SecretCache::new(SecretsManagerSource::new(client), crate::secrets::DEFAULT_TTL),
            secret_id,
        }
    }

    /// The cursor secret named by `CURSOR_SECRET_ID`.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, crate::config::ConfigError> {
        Ok(Self::new(Client::new(config), crate::config::env_required("CURSOR_SECRET_ID")?))
    }
}

impl SecretCursorKeys {
    /// The secret's value, at least 16 bytes long.
    async fn signing_secret(&self) -> Result<std::sync::Arc<str>, AppError> {
        let secret = self.cache.get(&self.secret_id).await?;
        if secret.len() < 16 {
            return Err(AppError::internal(format!("secret {} is too short to sign with", self.secret_id)));
        }
        Ok(secret)
    }
}

#[async_trait]
impl crate::ports::CursorKeys for SecretCursorKeys {
    async fn cursor_key(&self) -> Result<crate::cursor::CursorKey, AppError> {
        Ok(crate::cursor::CursorKey::new(self.signing_secret().await?.as_bytes()))
    }
}

/// The unsubscribe links' signing key (`EMAIL_LINK_SECRET_ID`), a secret of its own so rotating
/// the cursor key never breaks the links in mail already sent; cached the same way.
pub struct SecretLinkKeys(SecretCursorKeys);

impl SecretLinkKeys {
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, crate::config::ConfigError> {
        let id = crate::config::env_required("EMAIL_LINK_SECRET_ID")?;
        Ok(Self(SecretCursorKeys::new(Client::new(config), id)))
    }
}

#[async_trait]
impl crate::ports::LinkKeys for SecretLinkKeys {
    async fn link_key(&self) -> Result<crate::email::LinkKey, AppError> {
        Ok(crate::email::LinkKey::new(self.0.signing_secret().await?.as_bytes()))
    }
}
