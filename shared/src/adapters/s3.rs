//! S3 adapter for photos: presigned browser uploads into the uploads bucket (originals,
//! private), renditions into the media bucket (served through CloudFront).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};

use super::sdk_error;
use crate::error::AppError;
use crate::ports::{PhotoObjects, PresignedUpload, UploadUrls};

const DEP: &str = "s3";

#[derive(Clone, Debug)]
pub struct S3Photos {
    client: aws_sdk_s3::Client,
    uploads_bucket: String,
    media_bucket: String,
}

impl S3Photos {
    pub fn new(client: aws_sdk_s3::Client, uploads_bucket: String, media_bucket: String) -> Self {
        Self { client, uploads_bucket, media_bucket }
    }

    /// The uploads (`UPLOADS_BUCKET`) and media (`MEDIA_BUCKET`) buckets.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, crate::config::ConfigError> {
        use crate::config::env_required;
        Ok(Self::new(crate::config::s3_client(config), env_required("UPLOADS_BUCKET")?, env_required("MEDIA_BUCKET")?))
    }
}

#[async_trait]
impl UploadUrls for S3Photos {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size_bytes: u64,
        valid_for: Duration,
        now: DateTime<Utc>,
    ) -> Result<PresignedUpload, AppError> {
        let spec = PutSpec { key, content_type, size_bytes, create_only: false };
        presign_put(&self.client, &self.uploads_bucket, spec, valid_for, now).await
    }
}

/// What a presigned PUT accepts: exactly this type and length at this key, and, when
/// `create_only`, only if nothing is there yet (`If-None-Match: *`: the URL cannot replace it).
pub(crate) struct PutSpec<'a> {
    pub key: &'a str,
    pub content_type: &'a str,
    pub size_bytes: u64,
    pub create_only: bool,
}

/// A PUT URL for `bucket` that only accepts what `spec` says.
pub(crate) async fn presign_put(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    spec: PutSpec<'_>,
    valid_for: Duration,
    now: DateTime<Utc>,
) -> Result<PresignedUpload, AppError> {
    let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(valid_for).map_err(AppError::internal)?;
    // Content-Type and Content-Length are signed: S3 refuses a PUT of another type or size.
    let mut put = client
        .put_object()
        .bucket(bucket)
        .key(spec.key)
        .content_type(spec.content_type)
        .content_length(i64::try_from(spec.size_bytes).map_err(AppError::internal)?);
    if spec.create_only {
        put = put.if_none_match("*");
    }
    let request = put.presigned(config).await.map_err(|e| AppError::internal(format!("presigning: {e}")))?;
    let headers: BTreeMap<String, String> = request.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    Ok(PresignedUpload {
        url: request.uri().to_owned(),
        method: "PUT",
        headers,
        expires_at: now + chrono::Duration::from_std(valid_for).map_err(AppError::internal)?,
    })
}

/// The bytes of `bucket`/`key`, never reading past `cap` (`None`: gone; `Some(Err(size))`: over).
pub(crate) async fn read_capped(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    cap: usize,
) -> Result<Option<Result<Vec<u8>, u64>>, AppError> {
    let out = match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(sdk_error(DEP, e)),
    };
    let size = u64::try_from(out.content_length.unwrap_or(0)).unwrap_or(0);
    if size > cap as u64 {
        return Ok(Some(Err(size)));
    }
    // Read at most `cap` + 1 bytes whatever the header said.
    let mut reader = out.body.into_async_read();
    let mut bytes = Vec::with_capacity(size as usize);
    let read = tokio::io::AsyncReadExt::read_to_end(
        &mut tokio::io::AsyncReadExt::take(&mut reader, cap as u64 + 1),
        &mut bytes,
    )
    .await
    .map_err(AppError::internal)?;
    if read > cap {
        return Ok(Some(Err(read as u64)));
    }
    Ok(Some(Ok(bytes)))
}

#[async_trait]
impl PhotoObjects for S3Photos {
    async fn read_original(&self, key: &str, cap: usize) -> Result<Option<Result<Vec<u8>, u64>>, AppError> {
        read_capped(&self.client, &self.uploads_bucket, key, cap).await
    }

    async fn put_rendition(&self, key: &str, webp: Vec<u8>) -> Result<(), AppError> {
        self.client
            .put_object()
            .bucket(&self.media_bucket)
            .key(key)
            .content_type("image/webp")
            .cache_control("public, max-age=31536000, immutable")
            .body(ByteStream::from(webp))
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        Ok(())
    }

    async fn delete_objects(&self, originals: &[String], renditions: &[String]) -> Result<(), AppError> {
        for (bucket, keys) in [(&self.uploads_bucket, originals), (&self.media_bucket, renditions)] {
            for key in keys {
                self.client.delete_object().bucket(bucket).key(key).send().await.map_err(|e| sdk_error(DEP, e))?;
            }
        }
        Ok(())
    }
}
