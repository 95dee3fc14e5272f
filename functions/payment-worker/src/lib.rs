//! Payments FIFO consumer: applies each queued Stripe event. Platform events go to their
//! booking through `shared::payments` (confirm, record failures, refund late payments, record
//! refunds and disputes) and then to its owner's payout through `shared::payouts` (scheduled
//! on success, lowered by refunds) and its deposit through `shared::deposits` (the hold scheduled
//! on the card the payment saved, placed at once when the start is near); events about deposit
//! holds (`metadata.purpose = deposit`) go to the deposit alone; Connect events go to the owner
//! through `shared::connect` (account state, payouts). Effects apply exactly once whatever the duplicates or order; a message
//! that keeps failing lands in the DLQ after 5 receives.

mod wiring;
pub use wiring::run;

use aws_lambda_events::event::sqs::SqsMessage;
use shared::domain::payment::StripeEvent;
use shared::domain::Clock;
use shared::ports::{
    BookingReader, BookingWriter, DepositGateway, DepositStore, IntentIndex, OwnerPayouts, PaymentGateway,
    PayoutAccountStore, PayoutStore, ProfileStore,
};
use shared::AppError;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
    /// Hours after a rental's start (00:00 UTC) its owner's transfer is due.
    pub payout_delay_hours: i64,
    pub deposit_rules: shared::deposits::Rules,
}

pub async fn handle<S, G, C>(message: SqsMessage, deps: &Deps<S, G, C>) -> Result<(), AppError>
where
    S: BookingReader
        + BookingWriter
        + IntentIndex
        + ProfileStore
        + PayoutAccountStore
        + OwnerPayouts
        + PayoutStore
        + DepositStore,
    G: PaymentGateway + DepositGateway,
    C: Clock,
{
    let event = StripeEvent::parse(message.body.as_deref().unwrap_or_default().as_bytes())?;
    let now = deps.clock.now();
    let outcome = if event.account.is_some() {
        shared::connect::apply(&deps.store, &event, now).await?
    } else if event.is_deposit_hold() {
        shared::deposits::follow_hold_event(&deps.store, &event, deps.deposit_rules.claim_window, now).await?
    } else {
        let outcome = shared::payments::apply(&deps.store, &deps.gateway, &event, now).await?;
        shared::payouts::follow_payment_event(&deps.store, &event, deps.payout_delay_hours, now).await?;
        shared::deposits::follow_payment_event(&deps.store, &deps.gateway, &event, deps.deposit_rules, now).await?;
        outcome
    };
    tracing::info!(event_id = %event.id, event_type = %event.kind, outcome, "stripe event handled");
    Ok(())
}
