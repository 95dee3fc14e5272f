//! The payment worker's rules: what a Stripe event does to a booking. `decide` is pure (and
//! unit-tested against duplicated, reordered and late events); `apply` reads, decides, calls
//! Stripe where money must move back, and writes conditionally on the version it read.
//!
//! Every field only moves forward: a success is never undone by a later failure, refunds
//! only grow, an older dispute event never overwrites a newer one. So applying the same
//! events in any order, any number of times, settles on one state.

use chrono::{DateTime, Utc};

use crate::domain::booking::{Booking, BookingId, BookingStatus, PaymentStatus, RefundPlan, RefundStatus, Transition};
use crate::domain::payment::StripeEvent;
use crate::error::AppError;
use crate::ports::{BookingReader, BookingWriter, IntentIndex, PaymentGateway};

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub next: Booking,
    /// The state-machine move this event causes, if any.
    pub transition: Option<Transition>,
    /// An amount to refund now (paid for a booking that no longer holds its days).
    pub refund: Option<i64>,
}

impl Decision {
    pub fn changes(&self, current: &Booking) -> bool {
        self.transition.is_some() || self.refund.is_some() || self.next.payment != current.payment
    }
}

/// What `event` does to `booking` at `now`.
pub fn decide(booking: &Booking, event: &StripeEvent, now: DateTime<Utc>) -> Result<Decision, AppError> {
    let total = booking.quote.total;
    let mut transition = None;
    let mut refund = None;
    let mut payment = booking.payment.clone();
    match event.kind.as_str() {
        "payment_intent.succeeded" if payment.status != PaymentStatus::Succeeded => {
            payment.status = PaymentStatus::Succeeded;
            payment.failure_code = None;
            if payment.intent_id.is_none() {
                payment.intent_id = event.payment_intent().map(str::to_owned);
            }
            let matches =
                event.amount() == Some(total) && event.currency().as_deref() == Some(booking.quote.currency.code());
            if !matches {
                // Never confirm on a different amount: a person looks at it.
                payment.review = Some("amount_mismatch".to_owned());
            } else {
                match booking.status {
                    BookingStatus::PendingPayment if payment.refunded_amount < total => {
                        transition = Some(Transition::ConfirmPayment)
                    }
                    BookingStatus::PendingPayment
                    | BookingStatus::Confirmed
                    | BookingStatus::InProgress
                    | BookingStatus::Returned
                    | BookingStatus::Completed => {}
                    // Paid after the hold lapsed or the booking was cancelled: its days may be
                    // someone else's now, so the money goes back in full.
                    BookingStatus::Expired | BookingStatus::Cancelled | BookingStatus::Declined => {
                        if payment.refund_status == RefundStatus::None {
                            refund = Some(total);
                            payment.refund_status = RefundStatus::Requested;
                            payment.refund_amount = total;
                            let q = &booking.quote;
                            payment.refund_plan = RefundPlan {
                                rental: q.rental,
                                service_fee: q.service_fee,
                                deposit: q.deposit_charged(),
                            };
                        }
                    }
                    BookingStatus::Requested => payment.review = Some("paid_before_accepted".to_owned()),
                }
            }
        }
        "payment_intent.payment_failed" if payment.status != PaymentStatus::Succeeded => {
            payment.status = PaymentStatus::Failed;
            payment.failure_code = Some(event.failure_code().unwrap_or_else(|| "payment_failed".to_owned()));
            if payment.intent_id.is_none() {
                payment.intent_id = event.payment_intent().map(str::to_owned);
            }
        }
        "charge.refunded" => {
            let refunded = event.amount_refunded().unwrap_or(0);
            payment.refunded_amount = payment.refunded_amount.max(refunded);
            if payment.refunded_amount > 0 && payment.refunded_amount >= payment.refund_amount {
                payment.refund_status = RefundStatus::Refunded;
            }
        }
        "charge.dispute.created" | "charge.dispute.closed" if event.created >= payment.dispute_event_at => {
            payment.dispute_status = event.dispute_status().map(str::to_owned);
            payment.dispute_event_at = event.created;
        }
        _ => {}
    }
    let mut next = match transition {
        Some(t) => booking.moved(t, now)?,
        None => {
            let mut n = booking.clone();
            n.version += 1;
            n.updated_at = now;
            n
        }
    };
    next.payment = payment;
    Ok(Decision { next, transition, refund })
}

/// The idempotency key of the one refund a booking can have: retries (of the worker, of a
/// cancellation) reach Stripe with the same key and so never refund twice.
pub fn refund_key(id: &BookingId) -> String {
    format!("refund-{id}")
}

/// Applies a verified, queued Stripe event exactly once in effect. Returns what happened,
/// for the log: `applied`, `no_change`, or `ignored` (not one of our bookings).
pub async fn apply<S, G>(
    store: &S,
    gateway: &G,
    event: &StripeEvent,
    now: DateTime<Utc>,
) -> Result<&'static str, AppError>
where
    S: BookingReader + BookingWriter + IntentIndex,
    G: PaymentGateway,
{
    let id = match (event.booking_id(), event.payment_intent()) {
        (Some(id), _) => BookingId::parse(id).ok(),
        (None, Some(intent)) => store.booking_for_intent(intent).await?,
        (None, None) => None,
    };
    let Some(id) = id else {
        tracing::info!(event_id = %event.id, event_type = %event.kind, "event for no booking of ours; acknowledged");
        return Ok("ignored");
    };
    for _ in 0..3 {
        let Some(current) = store.get_booking(&id).await? else {
            tracing::info!(event_id = %event.id, booking_id = %id, "event for an unknown booking; acknowledged");
            return Ok("ignored");
        };
        let mut decision = decide(&current, event, now)?;
        if !decision.changes(&current) {
            return Ok("no_change");
        }
        if let Some(amount) = decision.refund {
            let intent = decision
                .next
                .payment
                .intent_id
                .clone()
                .ok_or_else(|| AppError::internal("refund without a payment intent"))?;
            let refund = gateway.refund(&intent, amount, id.as_str(), &refund_key(&id)).await?;
            tracing::info!(booking_id = %id, refund_id = %refund.id, amount, "refunded a payment for a booking that no longer holds its days");
            crate::metrics::count("Refunds", &[("Reason", "late_payment")]);
            decision.next.payment.refund_id = Some(refund.id);
        }
        // A move announces itself; a payment that newly failed (the booking waits for another
        // attempt until its hold ends) is announced too, so the renter is told.
        let newly_failed =
            decision.next.payment.status == PaymentStatus::Failed && current.payment.status != PaymentStatus::Failed;
        let kind = match decision.transition {
            Some(t) => Some(t.event_kind()),
            // Only while the renter can pay again: an expired or cancelled booking's is news to nobody.
            None if newly_failed && decision.next.status == BookingStatus::PendingPayment => {
                Some(crate::domain::events::kinds::PAYMENT_FAILED)
            }
            None => None,
        };
        let announcement = kind.map(|k| crate::bookings::event(k, &decision.next, None, now));
        match store.move_booking(&current, &decision.next, announcement.as_ref()).await {
            Ok(()) => {
                if decision.transition.is_some() {
                    crate::metrics::count("PaymentsSucceeded", &[]);
                }
                if newly_failed {
                    crate::metrics::count("PaymentsFailed", &[]);
                }
                tracing::info!(booking_id = %id, event_id = %event.id, event_type = %event.kind, status = decision.next.status.as_str(), payment = decision.next.payment.status.as_str(), "payment event applied");
                return Ok("applied");
            }
            Err(AppError::PreconditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(AppError::conflict("booking_busy", "the booking kept changing; the message will be retried"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::DateRange;
    use crate::domain::listing::Listing;
    use crate::domain::user::UserId;

    fn booking(status: BookingStatus) -> Booking {
        let listing = Listing::create(
            serde_json::from_value(serde_json::json!({
                "title": "Drill", "category": "tools", "location": {"city": "Berlin", "country": "DE"},
                "daily_price": {"amount": 1000, "currency": "EUR"}, "deposit": {"amount": 2000, "currency": "EUR"},
                "min_days": 1, "max_days": 10, "booking_mode": "instant", "status": "active"
            }))
            .unwrap(),
            UserId::parse("owner").unwrap(),
            Utc::now(),
        )
        .unwrap();
        let range = DateRange::new(
            Utc::now().date_naive() + chrono::Duration::days(5),
            Utc::now().date_naive() + chrono::Duration::days(7),
        )
        .unwrap();
        let mut b =
            Booking::request(&listing, UserId::parse("renter").unwrap(), range, None, Utc::now(), Default::default())
                .unwrap();
        b.status = status;
        b.payment.intent_id = Some("pi_1".into());
        b.payment.status = PaymentStatus::Pending;
        b
    }

    fn event(kind: &str, object: serde_json::Value, created: i64) -> StripeEvent {
        serde_json::from_value(serde_json::json!({"id": format!("evt_{kind}_{created}"), "type": kind, "created": created, "data": {"object": object}})).unwrap()
    }

    fn succeeded(b: &Booking, amount: i64) -> StripeEvent {
        event(
            "payment_intent.succeeded",
            serde_json::json!({"id": "pi_1", "object": "payment_intent", "amount": amount, "currency": "eur", "metadata": {"booking_id": b.id.as_str()}}),
            10,
        )
    }

    fn failed() -> StripeEvent {
        event(
            "payment_intent.payment_failed",
            serde_json::json!({"id": "pi_1", "object": "payment_intent", "last_payment_error": {"code": "card_declined"}}),
            5,
        )
    }

    fn refunded(amount: i64) -> StripeEvent {
        event(
            "charge.refunded",
            serde_json::json!({"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "amount_refunded": amount}),
            20,
        )
    }

    /// Applies events in order the way the worker does (decision -> stored state).
    fn run(mut b: Booking, events: &[StripeEvent]) -> Booking {
        for e in events {
            let d = decide(&b, e, Utc::now()).unwrap();
            if d.changes(&b) {
                b = d.next;
            }
        }
        b
    }

    #[test]
    fn success_confirms_once_whatever_the_repeats() {
        let b = booking(BookingStatus::PendingPayment);
        let total = b.quote.total;
        let once = run(b.clone(), &[succeeded(&b, total)]);
        assert_eq!((once.status, once.payment.status), (BookingStatus::Confirmed, PaymentStatus::Succeeded));
        let ten = run(b.clone(), &vec![succeeded(&b, total); 10]);
        assert_eq!((ten.status, ten.version), (BookingStatus::Confirmed, once.version), "repeats change nothing");
        let d = decide(&once, &succeeded(&b, total), Utc::now()).unwrap();
        assert!(!d.changes(&once));
    }

    #[test]
    fn success_after_failure_and_failure_after_success() {
        let b = booking(BookingStatus::PendingPayment);
        let total = b.quote.total;
        let after = run(b.clone(), &[failed(), succeeded(&b, total)]);
        assert_eq!(
            (after.status, after.payment.status, after.payment.failure_code.clone()),
            (BookingStatus::Confirmed, PaymentStatus::Succeeded, None)
        );
        let late_failure = run(b.clone(), &[succeeded(&b, total), failed()]);
        assert_eq!(
            (late_failure.status, late_failure.payment.status),
            (BookingStatus::Confirmed, PaymentStatus::Succeeded),
            "a late failure never undoes a success"
        );
        let only_failed = run(b, &[failed()]);
        assert_eq!(
            (only_failed.status, only_failed.payment.status, only_failed.payment.failure_code.as_deref()),
            (BookingStatus::PendingPayment, PaymentStatus::Failed, Some("card_declined")),
            "still payable"
        );
    }

    #[test]
    fn wrong_amount_is_flagged_never_confirmed() {
        let b = booking(BookingStatus::PendingPayment);
        let after = run(b.clone(), &[succeeded(&b, b.quote.total - 1)]);
        assert_eq!(
            (after.status, after.payment.review.as_deref()),
            (BookingStatus::PendingPayment, Some("amount_mismatch"))
        );
    }

    #[test]
    fn paid_after_expiry_is_refunded_in_full_once() {
        let b = booking(BookingStatus::Expired);
        let total = b.quote.total;
        let d = decide(&b, &succeeded(&b, total), Utc::now()).unwrap();
        assert_eq!((d.refund, d.transition), (Some(total), None));
        let again = decide(&d.next, &succeeded(&b, total), Utc::now()).unwrap();
        assert_eq!(again.refund, None, "a repeat does not refund twice");
        let done = run(d.next, &[refunded(total)]);
        assert_eq!(
            (done.status, done.payment.refund_status, done.payment.refunded_amount),
            (BookingStatus::Expired, RefundStatus::Refunded, total)
        );
    }

    #[test]
    fn refund_reported_before_success_is_not_confirmed() {
        let b = booking(BookingStatus::PendingPayment);
        let total = b.quote.total;
        let after = run(b.clone(), &[refunded(total), succeeded(&b, total)]);
        assert_eq!(
            (after.status, after.payment.refund_status, after.payment.status),
            (BookingStatus::PendingPayment, RefundStatus::Refunded, PaymentStatus::Succeeded)
        );
        // Refunds only grow: an older, smaller report does not shrink them.
        let after = run(after, &[refunded(100)]);
        assert_eq!(after.payment.refunded_amount, total);
    }

    #[test]
    fn disputes_follow_the_newest_event() {
        let b = booking(BookingStatus::Confirmed);
        let created = event(
            "charge.dispute.created",
            serde_json::json!({"id": "dp_1", "object": "dispute", "payment_intent": "pi_1", "status": "needs_response"}),
            100,
        );
        let closed = event(
            "charge.dispute.closed",
            serde_json::json!({"id": "dp_1", "object": "dispute", "payment_intent": "pi_1", "status": "won"}),
            200,
        );
        assert_eq!(run(b.clone(), &[created.clone(), closed.clone()]).payment.dispute_status.as_deref(), Some("won"));
        assert_eq!(run(b, &[closed, created]).payment.dispute_status.as_deref(), Some("won"), "reordered");
    }
}
