//! Domain events: facts other functions react to. Written to the table's outbox with the change
//! they report, delivered from its stream to the queues their consumers read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

/// One fact that happened. `id` is unique per fact, so consumers deduplicate on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainEvent {
    pub id: Uuid,
    /// Dotted lower-case name, e.g. `user.registered`, `booking.confirmed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What the event is about, e.g. `user/{id}`.
    pub subject: String,
    /// Who caused it, when a person did.
    #[serde(default)]
    pub actor: Option<String>,
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    pub data: serde_json::Value,
}

impl DomainEvent {
    pub fn new(
        kind: &str,
        subject: String,
        actor: Option<String>,
        occurred_at: DateTime<Utc>,
        data: serde_json::Value,
    ) -> Self {
        Self { id: Uuid::now_v7(), kind: kind.to_owned(), subject, actor, occurred_at, data }
    }

    /// Parses and checks an event received from a queue.
    pub fn parse(body: &str) -> Result<Self, AppError> {
        let event: DomainEvent = crate::json::parse_json(body.as_bytes())?;
        let kind_ok =
            !event.kind.is_empty() && event.kind.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
        if !kind_ok {
            return Err(AppError::field("type", "must be a dotted lower-case event name"));
        }
        if event.subject.is_empty() || event.subject.len() > 256 || event.subject.contains('#') {
            return Err(AppError::field("subject", "must be 1-256 characters without '#'"));
        }
        Ok(event)
    }
}

/// A queue events are delivered to, for one kind of consumer. The audit trail needs none: it
/// is the outbox itself, written with each change (decision 0039).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// Events someone is told about (notifications): every booking event, and the owner's
    /// payout news. The queue kept its first name, `booking-events`.
    BookingEvents,
    /// The same events, of the kinds that also go out by e-mail (`send-email`, decision 0045).
    Email,
}

impl Route {
    pub const ALL: [Route; 2] = [Route::BookingEvents, Route::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::BookingEvents => "booking_events",
            Route::Email => "email",
        }
    }
}

impl DomainEvent {
    /// Whether `route`'s consumers want this event.
    pub fn goes_to(&self, route: Route) -> bool {
        match route {
            Route::BookingEvents => {
                self.kind.starts_with("booking.")
                    || self.kind == kinds::MESSAGE_SENT
                    || self.kind.starts_with("review.")
                    || self.kind == kinds::PAYOUT_FAILED
                    || (self.kind == kinds::PAYOUT_ACCOUNT_UPDATED && self.data["tell_owner"] == true)
            }
            Route::Email => self.goes_to(Route::BookingEvents) && super::email::Category::of_kind(&self.kind).is_some(),
        }
    }
}

pub mod kinds {
    pub const USER_REGISTERED: &str = "user.registered";
    pub const PROFILE_UPDATED: &str = "user.profile_updated";
    /// A payout account linked to the profile, or Stripe reporting a change of its state.
    pub const PAYOUT_ACCOUNT_UPDATED: &str = "user.payout_account_updated";
    /// Stripe could not pay an owner's balance out to their bank.
    pub const PAYOUT_FAILED: &str = "user.payout_failed";
    pub const LISTING_CREATED: &str = "listing.created";
    pub const LISTING_UPDATED: &str = "listing.updated";
    pub const LISTING_ARCHIVED: &str = "listing.archived";
    pub const BOOKING_REQUESTED: &str = "booking.requested";
    pub const BOOKING_ACCEPTED: &str = "booking.accepted";
    pub const BOOKING_DECLINED: &str = "booking.declined";
    pub const BOOKING_EXPIRED: &str = "booking.expired";
    pub const BOOKING_CANCELLED: &str = "booking.cancelled";
    pub const BOOKING_CONFIRMED: &str = "booking.confirmed";
    /// The renter's payment failed (a declined card); the booking waits for another attempt.
    pub const PAYMENT_FAILED: &str = "booking.payment_failed";
    pub const BOOKING_PICKED_UP: &str = "booking.picked_up";
    pub const BOOKING_RETURNED: &str = "booking.returned";
    /// An item not back by the end of its stay and the grace period.
    pub const BOOKING_RETURN_OVERDUE: &str = "booking.return_overdue";
    /// A party wrote or edited their condition report of the pickup or the return.
    pub const CONDITION_REPORTED: &str = "booking.condition_reported";
    pub const BOOKING_COMPLETED: &str = "booking.completed";
    /// The owner claimed damages against the deposit (the renter is asked to answer).
    pub const CLAIM_FILED: &str = "booking.claim_filed";
    /// A claim accepted by the renter, or by nobody answering in time: settled for its amount.
    pub const CLAIM_ACCEPTED: &str = "booking.claim_accepted";
    /// A claim contested by the renter: escalated to an operator.
    pub const CLAIM_CONTESTED: &str = "booking.claim_contested";
    /// An operator decided a contested claim: settled for the decided amount.
    pub const CLAIM_DECIDED: &str = "booking.claim_decided";
    /// A deposit hold in force where there was none (the first, or one after a failure).
    pub const DEPOSIT_HELD: &str = "booking.deposit_held";
    /// A deposit hold refused, or lapsed: the renter is asked to confirm one with another card.
    pub const DEPOSIT_FAILED: &str = "booking.deposit_failed";
    /// A deposit hold cancelled at settlement: nothing taken.
    pub const DEPOSIT_RELEASED: &str = "booking.deposit_released";
    /// Part of a deposit hold taken at settlement (late fees, claims), the rest released.
    pub const DEPOSIT_CAPTURED: &str = "booking.deposit_captured";
    /// What was taken of a deposit was transferred to the owner (decision 0044).
    pub const DEPOSIT_PAID_OUT: &str = "booking.deposit_paid_out";
    /// A message in a booking's thread (its recipient is told).
    pub const MESSAGE_SENT: &str = "message.sent";
    /// A party reviewed the other, still hidden (the other is asked for theirs).
    pub const REVIEW_WRITTEN: &str = "review.written";
    /// A review became public (its subject is told).
    pub const REVIEW_PUBLISHED: &str = "review.published";
    /// The reviewed member answered a review (its author is told).
    pub const REVIEW_ANSWERED: &str = "review.answered";
    /// An operator removed a review (its author is told; the audit trail keeps who and why).
    pub const REVIEW_REMOVED: &str = "review.removed";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let e = DomainEvent::new(
            kinds::USER_REGISTERED,
            "user/u1".into(),
            Some("u1".into()),
            Utc::now(),
            serde_json::json!({}),
        );
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(DomainEvent::parse(&text).unwrap(), e);
        assert!(DomainEvent::parse("not json").is_err());
        assert!(DomainEvent::parse(&text.replace("user.registered", "User Registered")).is_err());
        assert!(DomainEvent::parse(&text.replace("user/u1", "user#u1")).is_err());
    }

    #[test]
    fn routes() {
        let at = Utc::now();
        let user = DomainEvent::new(kinds::USER_REGISTERED, "user/u1".into(), None, at, serde_json::json!({}));
        let booking = DomainEvent::new(kinds::BOOKING_ACCEPTED, "booking/b1".into(), None, at, serde_json::json!({}));
        assert!(!user.goes_to(Route::BookingEvents), "nobody is told of a registration");
        assert!(booking.goes_to(Route::BookingEvents));
        // Owners are told of failed payouts, and of account changes worth telling; not of the rest.
        let payout = |kind, data| DomainEvent::new(kind, "user/u1".into(), None, at, data);
        assert!(payout(kinds::PAYOUT_FAILED, serde_json::json!({})).goes_to(Route::BookingEvents));
        let told = payout(kinds::PAYOUT_ACCOUNT_UPDATED, serde_json::json!({"tell_owner": true}));
        let quiet = payout(kinds::PAYOUT_ACCOUNT_UPDATED, serde_json::json!({"tell_owner": false}));
        let opened = payout(kinds::PAYOUT_ACCOUNT_UPDATED, serde_json::json!({"opened": true}));
        assert!(told.goes_to(Route::BookingEvents));
        assert!(!quiet.goes_to(Route::BookingEvents) && !opened.goes_to(Route::BookingEvents));
        // E-mail: the told-about kinds that matter outside the app.
        assert!(booking.goes_to(Route::Email) && told.goes_to(Route::Email) && !quiet.goes_to(Route::Email));
        let picked_up =
            DomainEvent::new(kinds::BOOKING_PICKED_UP, "booking/b1".into(), None, at, serde_json::json!({}));
        assert!(picked_up.goes_to(Route::BookingEvents) && !picked_up.goes_to(Route::Email));
    }
}
