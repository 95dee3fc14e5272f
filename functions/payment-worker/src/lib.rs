//! Payments FIFO consumer: applies each queued Stripe event. Platform events go to their
//! booking through `shared::payments` (confirm, record failures, refund late payments, record
//! refunds and disputes) and then to its owner's payout through `shared::payouts` (scheduled
//! on success, lowered by refunds); Connect events go to the owner through `shared::connect` (account
//! state, payouts). Effects apply exactly once whatever the duplicates or order; a message
//! that keeps failing lands in the DLQ after 5 receives.

mod wiring;
pub use wiring::run;

use aws_lambda_events::event::sqs::SqsMessage;
use shared::domain::payment::StripeEvent;
use shared::domain::Clock;
use shared::ports::{
    BookingReader, BookingWriter, IntentIndex, OwnerPayouts, PaymentGateway, PayoutAccountStore, PayoutStore,
    ProfileStore,
};
use shared::AppError;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
    /// Hours after a rental's start (00:00 UTC) its owner's transfer is due.
    pub payout_delay_hours: i64,
}

pub async fn handle<S, G, C>(message: SqsMessage, deps: &Deps<S, G, C>) -> Result<(), AppError>
where
    S: BookingReader + BookingWriter + IntentIndex + ProfileStore + PayoutAccountStore + OwnerPayouts + PayoutStore,
    G: PaymentGateway,
    C: Clock,
{
    let event = StripeEvent::parse(message.body.as_deref().unwrap_or_default().as_bytes())?;
    let outcome = if event.account.is_some() {
        shared::connect::apply(&deps.store, &event, deps.clock.now()).await?
    } else {
        let now = deps.clock.now();
        let outcome = shared::payments::apply(&deps.store, &deps.gateway, &event, now).await?;
        shared::payouts::follow_payment_event(&deps.store, &event, deps.payout_delay_hours, now).await?;
        outcome
    };
    tracing::info!(event_id = %event.id, event_type = %event.kind, outcome, "stripe event handled");
    Ok(())
}
