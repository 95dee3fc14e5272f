//! S3 adapter for evidence files (decision 0043): presigned browser uploads into the private
//! evidence bucket, bounded reads for the check, and short-lived presigned downloads.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::s3::{presign_put, read_capped, PutSpec};
use crate::error::AppError;
use crate::ports::{EvidenceObjects, PresignedUpload, UploadUrls};

#[derive(Clone, Debug)]
pub struct S3Evidence {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Evidence {
    pub fn new(client: aws_sdk_s3::Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    /// The evidence bucket (`EVIDENCE_BUCKET`).
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, crate::config::ConfigError> {
        Ok(Self::new(crate::config::s3_client(config), crate::config::env_required("EVIDENCE_BUCKET")?))
    }
}

#[async_trait]
impl UploadUrls for S3Evidence {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size_bytes: u64,
        valid_for: Duration,
        now: DateTime<Utc>,
    ) -> Result<PresignedUpload, AppError> {
        // Create-only: once a file is checked, nothing can replace its bytes through the URL.
        let spec = PutSpec { key, content_type, size_bytes, create_only: true };
        presign_put(&self.client, &self.bucket, spec, valid_for, now).await
    }
}

#[async_trait]
impl EvidenceObjects for S3Evidence {
    async fn read(&self, key: &str, cap: usize) -> Result<Option<Result<Vec<u8>, u64>>, AppError> {
        read_capped(&self.client, &self.bucket, key, cap).await
    }

    async fn presign_get(&self, key: &str, valid_for: Duration) -> Result<String, AppError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(valid_for).map_err(AppError::internal)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| AppError::internal(format!("presigning: {e}")))?;
        Ok(request.uri().to_owned())
    }

    async fn put_rendition(&self, key: &str, webp: Vec<u8>) -> Result<(), AppError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("image/webp")
            .body(aws_sdk_s3::primitives::ByteStream::from(webp))
            .send()
            .await
            .map_err(|e| super::sdk_error("s3", e))?;
        Ok(())
    }
}
