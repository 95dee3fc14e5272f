//! Payments FIFO consumer: applies each queued Stripe event to its booking through
//! `shared::payments` (confirm, record failures, refund late payments, record refunds and
//! disputes). Effects apply exactly once whatever the duplicates or order; a message that
//! keeps failing lands in the DLQ after 5 receives.

mod wiring;
pub use wiring::run;

use aws_lambda_events::event::sqs::SqsMessage;
use shared::domain::payment::StripeEvent;
use shared::domain::Clock;
use shared::ports::{BookingReader, BookingWriter, IntentIndex, PaymentGateway};
use shared::AppError;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
}

pub async fn handle<S, G, C>(message: SqsMessage, deps: &Deps<S, G, C>) -> Result<(), AppError>
where
    S: BookingReader + BookingWriter + IntentIndex,
    G: PaymentGateway,
    C: Clock,
{
    let event = StripeEvent::parse(message.body.as_deref().unwrap_or_default().as_bytes())?;
    let outcome = shared::payments::apply(&deps.store, &deps.gateway, &event, deps.clock.now()).await?;
    tracing::info!(event_id = %event.id, event_type = %event.kind, outcome, "stripe event handled");
    Ok(())
}
