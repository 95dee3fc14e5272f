//! The owners' side of a booking's money (decision 0030): the payout scheduled when a payment
//! confirms, lowered when a refund gives part of the rental back, and settled by the payout
//! task through `Payout::next_step`: one transfer (idempotency key per booking, claimed by
//! version so overlapping runs call Stripe once, found again through its transfer group after
//! an attempt that did not record), and reversals of whatever went beyond what is owed.

use chrono::{DateTime, Utc};

use crate::domain::booking::{Booking, BookingId, PaymentStatus};
use crate::domain::deposit::Deposit;
use crate::domain::events::kinds;
use crate::domain::payment::StripeEvent;
use crate::domain::payout::{Destination, Payout, PayoutStep};
use crate::error::AppError;
use crate::ports::{BookingReader, DepositStore, IntentIndex, PayoutStore, ProfileStore, TransferGateway};

/// Schedules the payout of a confirmed, paid booking unless it has one. Safe to repeat.
pub async fn ensure_scheduled<S: PayoutStore>(
    store: &S,
    booking: &Booking,
    charge_id: Option<&str>,
    delay_hours: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let paid = booking.payment.status == PaymentStatus::Succeeded;
    if !paid || !booking.status.is_paid_stay() {
        return Ok(());
    }
    if store.get_payout(&booking.id).await?.is_some() {
        return Ok(());
    }
    let Some(charge) = charge_id else {
        return Err(AppError::internal(format!("booking {} was paid without a charge to transfer from", booking.id)));
    };
    let payout = Payout::schedule(booking, charge.to_owned(), delay_hours, now);
    match store.save_payout(&payout, None).await {
        Ok(()) => {
            tracing::info!(booking_id = %booking.id, owed = payout.owed, due_at = %payout.due_at, "payout scheduled");
            Ok(())
        }
        // A concurrent delivery scheduled it first.
        Err(AppError::PreconditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

/// What a platform payment event, once applied to its booking, does to the owner's payout:
/// a success schedules it (from the charge it made), a refund lowers it. Safe to repeat, so a
/// redelivered event finishes what a crashed one began.
pub async fn follow_payment_event<S>(
    store: &S,
    event: &StripeEvent,
    delay_hours: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError>
where
    S: PayoutStore + BookingReader + IntentIndex,
{
    let kind = event.kind.as_str();
    if kind != "payment_intent.succeeded" && kind != "charge.refunded" {
        return Ok(());
    }
    let id = match (event.booking_id(), event.payment_intent()) {
        (Some(id), _) => BookingId::parse(id).ok(),
        (None, Some(intent)) => store.booking_for_intent(intent).await?,
        (None, None) => None,
    };
    let Some(booking) = (match id {
        Some(id) => store.get_booking(&id).await?,
        None => None,
    }) else {
        return Ok(());
    };
    if kind == "payment_intent.succeeded" {
        ensure_scheduled(store, &booking, event.latest_charge(), delay_hours, now).await
    } else {
        apply_refund(store, &booking, now).await
    }
}

/// Lowers a booking's payout to the owner's share of the rental its refund keeps; the payout
/// task then reverses whatever was transferred beyond it. Safe to repeat.
pub async fn apply_refund<S: PayoutStore>(store: &S, booking: &Booking, now: DateTime<Utc>) -> Result<(), AppError> {
    for _ in 0..3 {
        let Some(current) = store.get_payout(&booking.id).await? else {
            return Ok(());
        };
        let mut next = current.refunded(booking.quote.rental, &booking.payment.refund_plan);
        if next == current {
            return Ok(());
        }
        (next.updated_at, next.version) = (now, current.version + 1);
        match store.save_payout(&next, Some(current.version)).await {
            Ok(()) => {
                tracing::info!(booking_id = %booking.id, owed = next.owed, transferred = next.transferred, "payout lowered by a refund");
                return Ok(());
            }
            Err(AppError::PreconditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(AppError::conflict("payout_busy", "the payout kept changing; retried later"))
}

/// What one payout run did with one payout, for its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Nothing,
    Transferred,
    Reversed,
    Blocked,
    /// Stripe refused or failed: still owed, retried on a later run.
    Failed,
    /// Another run holds it (its write won).
    Busy,
}

/// Takes the payout of booking `id` one step along `Payout::next_step` at `now`.
pub async fn settle<S, G>(store: &S, gateway: &G, id: &BookingId, now: DateTime<Utc>) -> Result<Settled, AppError>
where
    S: PayoutStore + BookingReader + ProfileStore,
    G: TransferGateway,
{
    let Some(stored) = store.get_payout(id).await? else {
        return Ok(Settled::Nothing);
    };
    let mut p = stored.clone();
    // The booking's refund, in case the cancellation's own update of the payout never landed.
    if let Some(booking) = store.get_booking(id).await? {
        p = p.refunded(booking.quote.rental, &booking.payment.refund_plan);
    }
    // An attempt that may not have recorded its outcome: Stripe knows (the transfer group).
    if p.attempts > 0 {
        if let Some(found) = gateway.transfers_of(id).await?.into_iter().next() {
            tracing::info!(booking_id = %id, transfer_id = %found.id, "transfer of an earlier attempt found");
            (p.transfer_id, p.transferred, p.reversed) = (Some(found.id), found.amount, found.reversed);
        }
    }
    let account = store.get_profile(&p.owner_id).await?.and_then(|profile| profile.payout_account);
    let destination = match &account {
        Some(a) if a.can_receive_transfers() => Destination::Ready(&a.id),
        Some(_) => Destination::Disabled,
        None => Destination::NoAccount,
    };
    let step = p.next_step(now, destination);
    p.blocked_reason = match step {
        PayoutStep::Block(reason) => Some(reason.to_owned()),
        _ => None,
    };
    let amount = match step {
        PayoutStep::Transfer(amount) | PayoutStep::Reverse(amount) => amount,
        PayoutStep::Nothing if p == stored => return Ok(Settled::Nothing),
        PayoutStep::Nothing => return save(store, p, &stored, now, Settled::Nothing).await,
        // Written at each check, even unchanged: the due list takes a blocked payout from its
        // last check, behind payouts that fell due since, so blocked ones never starve them.
        PayoutStep::Block(_) => return save(store, p, &stored, now, Settled::Blocked).await,
    };
    // Claim it: a racing run's claim fails on the version, so one run calls Stripe at a time
    // (and the idempotency keys cover a run that dies mid-call).
    p.attempts += 1;
    let claimed = match save(store, p.clone(), &stored, now, Settled::Nothing).await? {
        Settled::Busy => return Ok(Settled::Busy),
        _ => Payout { version: stored.version + 1, updated_at: now, ..p },
    };
    let mut next = claimed.clone();
    let outcome = match (step, destination) {
        (PayoutStep::Transfer(_), Destination::Ready(account)) => {
            gateway.transfer(&claimed, amount, account, &format!("payout-{id}")).await.map(|t| {
                (next.transfer_id, next.transferred) = (Some(t.id), t.amount);
                Settled::Transferred
            })
        }
        (PayoutStep::Reverse(_), _) => {
            let transfer = claimed.transfer_id.clone().unwrap_or_default();
            // One key per target: a retry of this reversal replays it, never adds a second.
            let key = format!("reversal-{id}-{}", claimed.owed);
            gateway.reverse(&transfer, amount, &key).await.map(|reversal| {
                next.reversal_id = Some(reversal);
                next.reversed += amount;
                Settled::Reversed
            })
        }
        _ => Err(AppError::internal("a payout step without its destination")),
    };
    let outcome = match outcome {
        Ok(done) => {
            (next.attempts, next.last_error) = (0, None);
            done
        }
        Err(e) => {
            let detail = e.for_log();
            tracing::warn!(booking_id = %id, code = e.code(), error = %detail, "payout step failed; retried on a later run");
            // For operators reading the payout: Stripe's refusal, not just "internal_error".
            next.last_error = Some(detail.chars().take(300).collect());
            Settled::Failed
        }
    };
    save(store, next, &claimed, now, outcome).await
}

/// Stores `next` over `previous` (by version); `Busy` when another run changed it first.
async fn save<S: PayoutStore>(
    store: &S,
    mut next: Payout,
    previous: &Payout,
    now: DateTime<Utc>,
    outcome: Settled,
) -> Result<Settled, AppError> {
    (next.version, next.updated_at) = (previous.version + 1, now);
    match store.save_payout(&next, Some(previous.version)).await {
        Ok(()) => Ok(outcome),
        Err(AppError::PreconditionFailed) => Ok(Settled::Busy),
        Err(e) => Err(e),
    }
}

/// Transfers what was captured of booking `id`'s deposit (late fees, settled claims) to its
/// owner's connected account (decision 0044), drawn on the capture's charge. An earlier attempt
/// that may not have recorded its transfer is found first through the deposit's transfer group;
/// the transfer's idempotency key covers overlapping runs. Blocked while the owner cannot
/// receive transfers, retried on a later run after a Stripe failure.
pub async fn pay_owner_deposit<S, G>(
    store: &S,
    gateway: &G,
    id: &BookingId,
    now: DateTime<Utc>,
) -> Result<Settled, AppError>
where
    S: DepositStore + BookingReader + ProfileStore,
    G: TransferGateway,
{
    let Some(deposit) = store.get_deposit(id).await? else {
        return Ok(Settled::Nothing);
    };
    let Some((amount, charge)) = deposit.owed_to_owner() else {
        return Ok(Settled::Nothing);
    };
    let booking = store.get_booking(id).await?.ok_or_else(|| AppError::internal("a deposit without its booking"))?;
    // A transfer an earlier attempt made (and did not record) first, whatever the account's state.
    let made = match gateway.deposit_transfers_of(id).await?.into_iter().next() {
        Some(found) => Ok(found),
        None => {
            let account = store.get_profile(&booking.owner_id).await?.and_then(|profile| profile.payout_account);
            let destination = match &account {
                Some(a) if a.can_receive_transfers() => a.id.clone(),
                Some(_) => {
                    return record(store, &deposit, None, Some("payouts_disabled"), None, now, Settled::Blocked).await
                }
                None => {
                    return record(store, &deposit, None, Some("no_payout_account"), None, now, Settled::Blocked).await
                }
            };
            let key = format!("deposit-payout-{id}");
            gateway.transfer_deposit(id, deposit.currency, amount, charge, &destination, &key).await
        }
    };
    match made {
        Ok(transfer) => {
            let mut event = crate::bookings::event(kinds::DEPOSIT_PAID_OUT, &booking, None, now);
            event.data["deposit"] = serde_json::json!({
                "amount": deposit.amount, "currency": deposit.currency.code(), "captured": amount,
            });
            tracing::info!(booking_id = %id, transfer_id = %transfer.id, amount, "captured deposit transferred to the owner");
            record(store, &deposit, Some(transfer.id), None, Some(&event), now, Settled::Transferred).await
        }
        Err(e) => {
            tracing::warn!(booking_id = %id, code = e.code(), error = %e.for_log(), "deposit transfer failed; retried on a later run");
            let detail: String = e.for_log().chars().take(300).collect();
            record(store, &deposit, None, Some(&detail), None, now, Settled::Failed).await
        }
    }
}

/// Stores the deposit with its transfer to the owner (or why there is none yet) over the
/// version read; `Busy` when another run changed it first.
async fn record<S: DepositStore>(
    store: &S,
    deposit: &Deposit,
    transfer_id: Option<String>,
    error: Option<&str>,
    event: Option<&crate::domain::events::DomainEvent>,
    now: DateTime<Utc>,
    outcome: Settled,
) -> Result<Settled, AppError> {
    let next = Deposit {
        owner_transfer_id: transfer_id,
        last_error: error.map(str::to_owned),
        version: deposit.version + 1,
        updated_at: now,
        ..deposit.clone()
    };
    match store.save_deposit(&next, Some(deposit.version), event).await {
        Ok(()) => Ok(outcome),
        Err(AppError::PreconditionFailed) => Ok(Settled::Busy),
        Err(e) => Err(e),
    }
}
