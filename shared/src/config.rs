//! Configuration read once per cold start: environment variables and the AWS SDK config.

use aws_config::{BehaviorVersion, SdkConfig};

use crate::error::AppError;

/// Reads a required environment variable, failing init with a message naming it.
pub fn env_required(name: &str) -> Result<String, ConfigError> {
    std::env::var(name).map_err(|_| ConfigError::Missing(name.to_owned()))
}

/// Reads an optional environment variable and parses it, falling back to `default`.
pub fn env_parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => raw
            .trim()
            .parse()
            .map_err(|_| ConfigError::Invalid(name.to_owned(), raw)),
        _ => Ok(default),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(String),
    #[error("environment variable {0} has an invalid value {1:?}")]
    Invalid(String, String),
}

impl From<ConfigError> for AppError {
    fn from(e: ConfigError) -> Self {
        AppError::internal(e)
    }
}

/// The AWS SDK configuration for this process, built once per cold start.
///
/// Credentials and region come from the standard environment (Lambda sets them).
/// `AWS_ENDPOINT_URL` (honoured by the SDK itself) points every client at a local
/// emulator such as moto; see [`s3_client`] for the S3 path-style switch that goes with it.
pub async fn aws_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// True when an endpoint override is configured, i.e. we talk to an emulator, not AWS.
pub fn endpoint_overridden() -> bool {
    std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty())
        || std::env::var("AWS_ENDPOINT_URL_S3").is_ok_and(|v| !v.is_empty())
}

/// An S3 client for `config`. Emulators serve buckets by path (`host/bucket/key`);
/// virtual-host style would need wildcard DNS, so path style is forced when an endpoint
/// override is set. Everything else uses `Client::new(&config)` directly.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(endpoint_overridden())
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}
