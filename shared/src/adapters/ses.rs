//! SES v2 adapter behind [`crate::ports::Mailer`]: raw MIME content, so the unsubscribe headers
//! reach the recipient as written; the configuration set reports bounces and complaints; the
//! category rides along as a message tag for SES's metrics.

use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};
use aws_sdk_sesv2::Client;

use crate::email::Composed;
use crate::error::AppError;
use crate::ports::{Mailer, Sent};

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
    async fn send(&self, email: &Composed, from: &str, configuration_set: &str) -> Result<Sent, AppError> {
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
            .await;
        match out {
            // Accepted either way: failing now would send it again on the retry.
            Ok(out) => Ok(Sent::Accepted(out.message_id.unwrap_or_else(|| {
                tracing::warn!("SES accepted an e-mail without a message id");
                "unknown".to_owned()
            }))),
            Err(e) => refusal(e),
        }
    }
}

/// SES's refusal by its code only: its messages name the recipient, which is personal data and
/// must not reach the logs. `MessageRejected` (this message: its address or its content) is
/// final, counted and alarmed (`EmailsRejected`: it is also what an unverified identity gets);
/// the rest (a bad request from our configuration, throttling, sending paused, SES unreachable)
/// is retried, and ends in the DLQ.
fn refusal<R>(err: SdkError<aws_sdk_sesv2::operation::send_email::SendEmailError, R>) -> Result<Sent, AppError> {
    match &err {
        SdkError::ServiceError(e) => match e.err().code().unwrap_or("Unknown") {
            "MessageRejected" => Ok(Sent::Rejected("MessageRejected".into())),
            "TooManyRequestsException" | "LimitExceededException" => {
                Err(AppError::Unavailable { dependency: "ses".into() })
            }
            code => Err(AppError::internal(format!("SES refused the e-mail: {code}"))),
        },
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            Err(AppError::Unavailable { dependency: "ses".into() })
        }
        _ => Err(AppError::internal("SES answered unreadably")),
    }
}
