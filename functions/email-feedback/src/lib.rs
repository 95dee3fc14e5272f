//! SES feedback consumer (SQS, subscribed to the configuration set's SNS topic): a permanent
//! bounce or a complaint suppresses the address, so nothing is e-mailed to it again and its
//! member sees why on `GET /me` (decision 0045). The first report is kept; a redelivered one
//! changes nothing. Transient bounces and delivery reports suppress nothing. Unreadable
//! feedback fails, is retried and lands in the DLQ.

mod wiring;
pub use wiring::run;

use aws_lambda_events::event::sqs::SqsMessage;
use shared::domain::email::suppressions_from_feedback;
use shared::ports::{Recorded, Suppressions};
use shared::AppError;

pub async fn handle(message: SqsMessage, store: &impl Suppressions) -> Result<(), AppError> {
    for s in suppressions_from_feedback(message.body.as_deref().unwrap_or_default())? {
        // The address is personal data: only its domain is logged.
        match store.suppress(&s).await? {
            Recorded::New => {
                tracing::warn!(reason = s.reason.as_str(), feedback_id = %s.feedback_id, domain = s.address.domain(), "e-mail address suppressed")
            }
            Recorded::Duplicate => {
                tracing::info!(reason = s.reason.as_str(), feedback_id = %s.feedback_id, "address already suppressed")
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsEvent;
    use shared::domain::email::{EmailAddress, SuppressionReason};
    use shared::testing::MemoryStore;

    #[tokio::test]
    async fn a_permanent_bounce_suppresses_once_and_garbage_fails_alone() {
        let event: SqsEvent = serde_json::from_str(include_str!("../../../events/email-feedback.json")).unwrap();
        let store = MemoryStore::default();
        let resp = shared::consumer::process_batch(event.clone(), &|m| handle(m, &store)).await;
        let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        assert_eq!(failed, vec!["bad-1"]);
        let address = EmailAddress::parse("gone@example.com").unwrap();
        let first = store.suppressions.lock().unwrap()[&address].clone();
        assert_eq!((first.reason, first.feedback_id.as_str()), (SuppressionReason::Bounced, "0102018f-bounce-1"));
        shared::consumer::process_batch(event, &|m| handle(m, &store)).await;
        assert_eq!(store.suppressions.lock().unwrap().len(), 1, "redelivery changes nothing");
    }
}
