//! SES v2 adapter behind [`crate::ports::Mailer`]: raw MIME content, so the unsubscribe headers
//! reach the recipient as written; the configuration set reports bounces and complaints; the
//! category rides along as a message tag for SES's metrics.

use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};
use aws_sdk_sesv2::Client;

use super::sdk_error;
use crate::email::Composed;
use crate::error::AppError;
use crate::ports::Mailer;

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
}

impl SesMailer {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self { client: Client::new(config) }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Composed, from: &str, configuration_set: &str) -> Result<String, AppError> {
        let raw = RawMessage::builder().data(Blob::new(email.raw.clone())).build().map_err(AppError::internal)?;
        let tag = MessageTag::builder()
            .name("category")
            .value(email.category.as_str())
            .build()
            .map_err(AppError::internal)?;
        let out = self
            .client
            .send_email()
            .from_email_address(from)
            .destination(Destination::builder().to_addresses(email.to.as_str()).build())
            .content(EmailContent::builder().raw(raw).build())
            .configuration_set_name(configuration_set)
            .email_tags(tag)
            .send()
            .await
            .map_err(|e| sdk_error("ses", e))?;
        out.message_id.ok_or_else(|| AppError::internal("SES answered without a message id"))
    }
}
