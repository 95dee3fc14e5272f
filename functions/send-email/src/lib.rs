//! E-mail consumer (SQS, fed by `publish-events`): each event's notifications that matter outside
//! the app go out through SES, once per notification however often the event is delivered, to
//! members who have not switched the category off and whose address is not suppressed; a
//! thread's messages at most once per 15 minutes (decision 0045). A malformed event fails, is
//! retried and lands in the DLQ; so does an SES error worth retrying (throttling, sending
//! paused), while SES's refusal of the message itself is final and recorded.

mod wiring;
pub use wiring::run;

use aws_lambda_events::event::sqs::SqsMessage;
use shared::domain::events::DomainEvent;
use shared::domain::notification;
use shared::domain::Clock;
use shared::email::{deliver, EmailConfig, Mail, Outcome};
use shared::ports::{EmailLedger, EmailPreferences, LinkKeys, Mailer};
use shared::AppError;

pub struct Deps<S, M, K, C> {
    pub store: S,
    pub mailer: M,
    pub keys: K,
    pub config: EmailConfig,
    pub clock: C,
}

pub async fn handle<S, M, K, C>(message: SqsMessage, deps: &Deps<S, M, K, C>) -> Result<(), AppError>
where
    S: EmailLedger + EmailPreferences,
    M: Mailer,
    K: LinkKeys,
    C: Clock,
{
    let event = DomainEvent::parse(message.body.as_deref().unwrap_or_default())?;
    let mail = Mail { store: &deps.store, mailer: &deps.mailer, keys: &deps.keys, config: &deps.config };
    // Every recipient is tried: one that fails never keeps the other's e-mail back. The first
    // error fails the message; on its retry the ledger skips what went out.
    let mut first_error = None;
    for n in notification::for_event(&event)? {
        match deliver(&n, &mail, deps.clock.now()).await {
            Ok(Outcome::Sent(ses_id)) => {
                tracing::info!(event_id = %event.id, notification_id = %n.id, event_type = %event.kind, ses_message_id = %ses_id, "e-mail sent")
            }
            Ok(Outcome::AlreadyDone(outcome)) => {
                tracing::info!(event_id = %event.id, notification_id = %n.id, outcome = %outcome, "duplicate delivery ignored")
            }
            Ok(Outcome::Skipped(why)) => {
                tracing::info!(event_id = %event.id, notification_id = %n.id, event_type = %event.kind, why, "no e-mail")
            }
            Ok(Outcome::Rejected(code)) => {
                tracing::warn!(event_id = %event.id, notification_id = %n.id, event_type = %event.kind, code = %code, "e-mail refused by SES")
            }
            Err(err) => {
                tracing::warn!(event_id = %event.id, notification_id = %n.id, error = %err.for_log(), "e-mail not sent; retried");
                first_error.get_or_insert(err);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
