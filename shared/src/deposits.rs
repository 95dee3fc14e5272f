//! Deposits held on the renter's card (decision 0040): scheduled when the rental payment
//! confirms, then taken along `Deposit::next_step` by whoever looks at it (the deposit task,
//! the completion task, a cancellation, the payment worker). Every Stripe call has an
//! idempotency key of its own (`deposit-{booking}-{n}`, `capture-{intent}`, `release-{intent}`)
//! and every record is written conditionally on the version read, so retries and overlapping
//! runs move money once and announce it once.

use chrono::{DateTime, Duration, Utc};

use crate::domain::booking::{Booking, BookingId, PaymentStatus};
use crate::domain::deposit::{Claim, Deposit, DepositStatus, DepositStep, Need};
use crate::domain::events::{kinds, DomainEvent};
use crate::domain::payment::StripeEvent;
use crate::error::AppError;
use crate::ports::{BookingReader, DepositGateway, DepositStore, HoldOutcome};

/// What one look at a deposit did, for logs and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stepped {
    /// The booking has no deposit to hold.
    NoDeposit,
    Nothing,
    Held,
    Refused,
    Released,
    Captured,
    /// Stripe failed: retried by the deposit task.
    Failed,
    /// Another run changed it first.
    Busy,
}

impl Stepped {
    pub fn as_str(self) -> &'static str {
        match self {
            Stepped::NoDeposit => "no_deposit",
            Stepped::Nothing => "nothing",
            Stepped::Held => "held",
            Stepped::Refused => "refused",
            Stepped::Released => "released",
            Stepped::Captured => "captured",
            Stepped::Failed => "failed",
            Stepped::Busy => "busy",
        }
    }
}

/// Schedules the deposit of a confirmed booking paid with `payment_method` saved to
/// `customer`, unless it has one or holds none (no deposit; a booking from before decision
/// 0040 paid it with the rental; a payment that came after the booking ended, which is
/// refunded). Safe to repeat.
pub async fn ensure_scheduled<S: DepositStore>(
    store: &S,
    booking: &Booking,
    customer: Option<&str>,
    payment_method: Option<&str>,
    lead_hours: i64,
    now: DateTime<Utc>,
) -> Result<Option<Deposit>, AppError> {
    let q = &booking.quote;
    let paid_stay = booking.payment.status == PaymentStatus::Succeeded && booking.status.is_paid_stay();
    if q.deposit == 0 || q.deposit_charged() > 0 || !paid_stay {
        return Ok(None);
    }
    if let Some(existing) = store.get_deposit(&booking.id).await? {
        return Ok(Some(existing));
    }
    let mut deposit = Deposit::schedule(
        booking,
        customer.unwrap_or_default().to_owned(),
        payment_method.map(str::to_owned),
        lead_hours,
        now,
    );
    // Paid without a Customer (an intent created before decision 0040): no card to hold off
    // session, so the renter is asked for one at once.
    let event = if customer.is_none() {
        tracing::warn!(booking_id = %booking.id, "paid without a Customer: the renter is asked to confirm a deposit hold");
        let asked = deposit.refused("no_saved_card".to_owned());
        let event = announcement(booking, &deposit, &asked, now);
        deposit = asked;
        event
    } else {
        None
    };
    match store.save_deposit(&deposit, None, event.as_ref()).await {
        Ok(()) => {
            tracing::info!(booking_id = %booking.id, amount = deposit.amount, hold_at = %deposit.hold_at, "deposit hold scheduled");
            Ok(Some(deposit))
        }
        Err(AppError::PreconditionFailed) => store.get_deposit(&booking.id).await,
        Err(e) => Err(e),
    }
}

/// Whether `booking` may complete: its deposit, if any, is settled.
pub async fn settled<S: DepositStore>(store: &S, booking: &BookingId) -> Result<bool, AppError> {
    Ok(store.get_deposit(booking).await?.is_none_or(|d| d.settlement.is_some()))
}

/// Takes `booking`'s deposit along `Deposit::next_step` until nothing is left to do now (a
/// renewal is followed by the old hold's cancellation; a lost race by a fresh look). Returns
/// the last step's outcome.
pub async fn advance<S, G>(
    store: &S,
    gateway: &G,
    booking: &Booking,
    claim_window: Duration,
    now: DateTime<Utc>,
) -> Result<Stepped, AppError>
where
    S: DepositStore,
    G: DepositGateway,
{
    let mut outcome = Stepped::NoDeposit;
    for _ in 0..4 {
        let Some(current) = store.get_deposit(&booking.id).await? else {
            return Ok(outcome);
        };
        let step = current.next_step(Need::of(booking, current.damage.as_ref(), claim_window, now), now);
        if step == DepositStep::Nothing {
            return Ok(if outcome == Stepped::NoDeposit { Stepped::Nothing } else { outcome });
        }
        outcome = take(store, gateway, booking, &current, step, now).await?;
        if matches!(outcome, Stepped::Failed | Stepped::Refused) {
            return Ok(outcome);
        }
    }
    Ok(outcome)
}

/// After a booking ended without a stay (cancelled): releases its deposit hold, if any. A
/// Stripe failure is recorded on the deposit (which is then due for the deposit task at
/// once), not returned: the cancellation stands whatever happens to the hold.
pub async fn release_after_cancellation<S, G>(store: &S, gateway: &G, booking: &Booking, now: DateTime<Utc>)
where
    S: DepositStore,
    G: DepositGateway,
{
    // The claim window does not matter to a cancelled booking: it settles for nothing.
    if let Err(e) = advance(store, gateway, booking, Duration::zero(), now).await {
        tracing::warn!(booking_id = %booking.id, code = e.code(), error = %e.for_log(), "deposit not released yet; the deposit task retries");
    }
}

/// One step. A call is claimed first (of overlapping looks, the one whose claim is stored makes
/// it), then made, then its answer recorded from the claimed version; a claimed call found
/// unrecorded is made again with the same key. A Stripe failure keeps the claim and is retried.
async fn take<S, G>(
    store: &S,
    gateway: &G,
    booking: &Booking,
    current: &Deposit,
    step: DepositStep,
    now: DateTime<Utc>,
) -> Result<Stepped, AppError>
where
    S: DepositStore,
    G: DepositGateway,
{
    let (claim, from) = match step {
        DepositStep::Nothing => return Ok(Stepped::Nothing),
        DepositStep::Close { owed } => {
            let next = current.settled(owed, 0, now);
            let event = announcement(booking, current, &next, now);
            return save(store, next, current, event.as_ref(), now, Stepped::Released).await;
        }
        DepositStep::CancelReplaced(old) => {
            return match gateway.release(&old, &format!("release-{old}")).await {
                Ok(()) => {
                    let next = Deposit { replaced_intent: None, last_error: None, ..current.clone() };
                    save(store, next, current, None, now, Stepped::Held).await
                }
                Err(e) => failed(store, current, &e, now).await,
            };
        }
        DepositStep::Call(claim) => {
            let claimed = current.claimed(claim.clone());
            match save(store, claimed.clone(), current, None, now, Stepped::Nothing).await? {
                Stepped::Busy => return Ok(Stepped::Busy),
                _ => (claim, Deposit { version: current.version + 1, updated_at: now, ..claimed }),
            }
        }
        DepositStep::Resume(claim) => (claim, current.clone()),
    };
    let key = claim.key(&booking.id);
    let answered = match &claim {
        Claim::Hold { .. } => gateway.hold(&from, &key).await.map(|outcome| match outcome {
            HoldOutcome::Authorized(intent) => (from.authorized(intent, now), Stepped::Held),
            HoldOutcome::Refused(code) => (from.refused(code), Stepped::Refused),
        }),
        Claim::Capture { intent_id, amount, owed } => gateway.capture(intent_id, *amount, &key).await.map(|captured| {
            if let Some(captured) = captured {
                let settled = from.settled(*owed, captured.amount, now);
                (Deposit { capture_charge: captured.charge, ..settled }, Stepped::Captured)
            } else {
                // The hold had ended (lapsed) before the capture: nothing to take from it.
                (Deposit { hold: None, ..from.clone() }.settled(*owed, 0, now), Stepped::Released)
            }
        }),
        Claim::Release { intent_id, owed } => {
            gateway.release(intent_id, &key).await.map(|()| (from.settled(*owed, 0, now), Stepped::Released))
        }
    };
    match answered {
        Ok((next, outcome)) => {
            let event = announcement(booking, &from, &next, now);
            save(store, next, &from, event.as_ref(), now, outcome).await
        }
        Err(e) => failed(store, &from, &e, now).await,
    }
}

/// Records a Stripe failure (the claim, if any, stays: retried with its key by the deposit
/// task, for which the deposit is now due).
async fn failed<S: DepositStore>(
    store: &S,
    current: &Deposit,
    e: &AppError,
    now: DateTime<Utc>,
) -> Result<Stepped, AppError> {
    let detail = e.for_log();
    tracing::warn!(booking_id = %current.booking_id, code = e.code(), error = %detail, "deposit step failed; retried by the deposit task");
    let next = Deposit { last_error: Some(detail.chars().take(300).collect()), ..current.clone() };
    save(store, next, current, None, now, Stepped::Failed).await
}

/// The event a change of a deposit announces: a hold in force where there was none (the
/// first, or one after a failure), a failure, a release of a hold, a capture. Renewals and a
/// settlement with nothing held announce nothing.
fn announcement(booking: &Booking, current: &Deposit, next: &Deposit, now: DateTime<Utc>) -> Option<DomainEvent> {
    let kind = match (current.status(), next.status()) {
        (DepositStatus::Scheduled | DepositStatus::Failed, DepositStatus::Held) => kinds::DEPOSIT_HELD,
        (before, DepositStatus::Failed) if before != DepositStatus::Failed => kinds::DEPOSIT_FAILED,
        (DepositStatus::Failed, DepositStatus::Failed) if current.hold.is_some() && next.hold.is_none() => {
            kinds::DEPOSIT_FAILED
        }
        (_, DepositStatus::Captured) => kinds::DEPOSIT_CAPTURED,
        (_, DepositStatus::Released) if current.hold.is_some() => kinds::DEPOSIT_RELEASED,
        _ => return None,
    };
    let mut event = crate::bookings::event(kind, booking, None, now);
    event.data["deposit"] = serde_json::json!({
        "amount": next.amount,
        "currency": next.currency.code(),
        "captured": next.settlement.map_or(0, |s| s.captured),
        "failure_code": next.failure_code,
    });
    Some(event)
}

async fn save<S: DepositStore>(
    store: &S,
    mut next: Deposit,
    previous: &Deposit,
    event: Option<&DomainEvent>,
    now: DateTime<Utc>,
    outcome: Stepped,
) -> Result<Stepped, AppError> {
    (next.version, next.updated_at) = (previous.version + 1, now);
    match store.save_deposit(&next, Some(previous.version), event).await {
        Ok(()) => {
            tracing::info!(booking_id = %next.booking_id, outcome = outcome.as_str(), status = next.status().as_str(), "deposit step");
            Ok(outcome)
        }
        Err(AppError::PreconditionFailed) => Ok(Stepped::Busy),
        Err(e) => Err(e),
    }
}

/// What a Stripe event about a hold (`metadata.purpose = deposit`) does: the renter's own
/// confirmation (`payment_intent.amount_capturable_updated` of the pending hold) puts it in
/// force; a hold in force ended without us (`payment_intent.canceled`: lapsed, cancelled in
/// the Dashboard) leaves none, and the renter is asked for another. Anything else (our own
/// holds, captures and releases, already recorded from Stripe's answers) changes nothing.
pub async fn follow_hold_event<S>(
    store: &S,
    event: &StripeEvent,
    claim_window: Duration,
    now: DateTime<Utc>,
) -> Result<&'static str, AppError>
where
    S: DepositStore + BookingReader,
{
    let (Some(id), Some(intent)) = (event.booking_id().and_then(|b| BookingId::parse(b).ok()), event.payment_intent())
    else {
        return Ok("ignored");
    };
    for _ in 0..3 {
        let Some(current) = store.get_deposit(&id).await? else {
            return Ok("ignored");
        };
        // A claimed call is being made: its answer is recorded first. A lapse is found by that
        // call itself (a capture or release of an ended hold, a renewal replacing it); the
        // renter's confirmation waits (the queue redelivers it), or it could lose the claim.
        if current.claim.is_some() {
            let confirmation = event.kind == "payment_intent.amount_capturable_updated"
                && current.pending_intent.as_deref() == Some(intent);
            if confirmation {
                return Err(AppError::conflict("deposit_busy", "a deposit call is in flight; the event is retried"));
            }
            return Ok("no_change");
        }
        let Some(booking) = store.get_booking(&id).await? else {
            return Ok("ignored");
        };
        let next = match event.kind.as_str() {
            // Settlement cancels a pending hold (`Deposit::settled`), so a pending one is wanted.
            "payment_intent.amount_capturable_updated" if current.pending_intent.as_deref() == Some(intent) => {
                current.held(intent.to_owned(), event.payment_method().map(str::to_owned), now)
            }
            "payment_intent.canceled" => {
                match current.lost(intent, Need::of(&booking, current.damage.as_ref(), claim_window, now), now) {
                    Some(next) => next,
                    None => return Ok("no_change"),
                }
            }
            _ => return Ok("no_change"),
        };
        let announced = announcement(&booking, &current, &next, now);
        match save(store, next, &current, announced.as_ref(), now, Stepped::Held).await? {
            Stepped::Busy => continue,
            _ => return Ok("applied"),
        }
    }
    Err(AppError::conflict("deposit_busy", "the deposit kept changing; the message will be retried"))
}

/// What a confirmed rental payment (`payment_intent.succeeded`, already applied to its
/// booking) does to the deposit: schedules its hold on the card just saved, and places it at
/// once when the start is closer than the lead. Safe to repeat, like the payout's scheduling.
pub async fn follow_payment_event<S, G>(
    store: &S,
    gateway: &G,
    event: &StripeEvent,
    rules: Rules,
    now: DateTime<Utc>,
) -> Result<(), AppError>
where
    S: DepositStore + BookingReader,
    G: DepositGateway,
{
    if event.kind != "payment_intent.succeeded" {
        return Ok(());
    }
    let Some(id) = event.booking_id().and_then(|b| BookingId::parse(b).ok()) else {
        return Ok(());
    };
    let Some(booking) = store.get_booking(&id).await? else {
        return Ok(());
    };
    let scheduled =
        ensure_scheduled(store, &booking, event.customer(), event.payment_method(), rules.lead_hours, now).await?;
    if scheduled.is_some() {
        advance(store, gateway, &booking, rules.claim_window, now).await?;
    }
    Ok(())
}

/// The deposit rules from configuration.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Hours before the start (00:00 UTC) the hold is placed (`DepositHoldLeadHours`).
    pub lead_hours: i64,
    /// How long after the return the owner may claim (`ClaimWindowHours`).
    pub claim_window: Duration,
}

impl Rules {
    /// `DEPOSIT_HOLD_LEAD_HOURS` (default 24) and `CLAIM_WINDOW_HOURS` (default 48).
    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        let lead_hours =
            crate::config::env_parsed("DEPOSIT_HOLD_LEAD_HOURS", crate::domain::deposit::DEFAULT_HOLD_LEAD_HOURS)?;
        let claim_hours = crate::config::env_parsed("CLAIM_WINDOW_HOURS", 48i64)?;
        Ok(Rules { lead_hours, claim_window: Duration::hours(claim_hours) })
    }
}

/// The hold the renter confirms with a card of their choice after theirs was refused or the
/// hold lapsed (`POST /bookings/{id}/deposit`): created once (a repeat answers the same
/// intent), recorded as pending; `payment_intent.amount_capturable_updated` puts it in force.
/// 409 `deposit_not_needed` when no hold is missing.
pub async fn replacement_hold<S, G>(
    store: &S,
    gateway: &G,
    booking: &Booking,
    now: DateTime<Utc>,
) -> Result<crate::ports::PaymentIntent, AppError>
where
    S: DepositStore,
    G: DepositGateway + crate::ports::PaymentGateway,
{
    let not_needed = || AppError::conflict("deposit_not_needed", "this booking's deposit is not missing a hold");
    let stays = matches!(
        booking.status,
        crate::domain::booking::BookingStatus::Confirmed
            | crate::domain::booking::BookingStatus::InProgress
            | crate::domain::booking::BookingStatus::Returned
    );
    for _ in 0..3 {
        let current = store.get_deposit(&booking.id).await?.ok_or_else(not_needed)?;
        if !stays || current.settlement.is_some() || current.failure_code.is_none() {
            return Err(not_needed());
        }
        if let Some(pending) = &current.pending_intent {
            return gateway.get_intent(pending).await;
        }
        let intent = gateway.hold_on_session(&current, &current.next_hold_key()).await?;
        let next = Deposit {
            pending_intent: Some(intent.id.clone()),
            holds_placed: current.holds_placed + 1,
            ..current.clone()
        };
        match save(store, next, &current, None, now, Stepped::Nothing).await? {
            Stepped::Busy => continue,
            _ => return Ok(intent),
        }
    }
    Err(AppError::conflict("deposit_busy", "the deposit kept changing; try again"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{confirmed_booking, FakeGateway, MemoryStore};

    #[tokio::test]
    async fn paid_without_a_customer_asks_the_renter_at_once() {
        let store = MemoryStore::default();
        let booking = confirmed_booking("2026-12-10", 3, 4_000).unwrap();
        let d = ensure_scheduled(&store, &booking, None, None, 24, booking.created_at).await.unwrap().unwrap();
        assert_eq!((d.status(), d.failure_code.as_deref()), (DepositStatus::Failed, Some("no_saved_card")));
        assert_eq!(store.event_kinds(), ["booking.deposit_failed"]);
        let again = ensure_scheduled(&store, &booking, None, None, 24, booking.created_at).await.unwrap();
        assert_eq!((again, store.event_kinds().len()), (Some(d), 1), "a repeat changes nothing");
        // The renter's hold to confirm carries no Customer; its authorization puts it in force.
        let gateway = FakeGateway::default();
        let intent = replacement_hold(&store, &gateway, &booking, booking.created_at).await.unwrap();
        let event: StripeEvent = serde_json::from_value(serde_json::json!({
            "id": "evt_1", "type": "payment_intent.amount_capturable_updated", "created": 1,
            "data": {"object": {"id": intent.id, "object": "payment_intent",
                "metadata": {"booking_id": booking.id.as_str(), "purpose": "deposit"}}}
        }))
        .unwrap();
        store.seed_booking(&booking).await;
        // While a claimed call is in flight, the confirmation waits for its answer (redelivered).
        let pending = store.get_deposit(&booking.id).await.unwrap().unwrap();
        lock_in(&store, &Deposit { claim: Some(Claim::Hold { number: 9 }), ..pending.clone() });
        let waiting = follow_hold_event(&store, &event, Duration::hours(48), booking.created_at).await.unwrap_err();
        assert_eq!(waiting.code(), "deposit_busy");
        lock_in(&store, &pending);
        assert_eq!(
            follow_hold_event(&store, &event, Duration::hours(48), booking.created_at).await.unwrap(),
            "applied"
        );
        assert_eq!(
            follow_hold_event(&store, &event, Duration::hours(48), booking.created_at).await.unwrap(),
            "no_change",
            "redelivered"
        );
        let held = store.get_deposit(&booking.id).await.unwrap().unwrap();
        assert_eq!((held.status(), held.hold.map(|h| h.intent_id)), (DepositStatus::Held, Some(intent.id)));
        assert_eq!(store.event_kinds(), ["booking.deposit_failed", "booking.requested", "booking.deposit_held"]);
    }

    fn lock_in(store: &MemoryStore, d: &Deposit) {
        store.deposits.lock().unwrap().insert(d.booking_id.clone(), d.clone());
    }
}
