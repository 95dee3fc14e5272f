//! The state machine: one table of moves (`BookingStatus::after`) and how long holds last.

use chrono::Duration;

use crate::error::AppError;

string_enum!(BookingStatus {
    Requested => "requested",
    PendingPayment => "pending_payment",
    Confirmed => "confirmed",
    InProgress => "in_progress",
    Returned => "returned",
    Declined => "declined",
    Expired => "expired",
    Cancelled => "cancelled",
    Completed => "completed",
});

/// A move of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Accept,
    Decline,
    Expire,
    Cancel,
    ConfirmPayment,
    /// The owner confirmed the pickup (with the renter's code).
    PickUp,
    /// The item came back (the renter with the owner's code, or the owner).
    Return,
    Complete,
}

impl BookingStatus {
    /// Whether a booking in this state keeps its days from everyone else.
    pub fn holds_dates(self) -> bool {
        use BookingStatus::*;
        matches!(self, Requested | PendingPayment | Confirmed | InProgress)
    }

    /// Whether the booking was paid and its stay stands (not cancelled): confirmed or later.
    pub fn is_paid_stay(self) -> bool {
        use BookingStatus::*;
        matches!(self, Confirmed | InProgress | Returned | Completed)
    }

    /// The 409 code for "not possible in this state": it names the state.
    fn conflict_code(self) -> &'static str {
        match self {
            BookingStatus::Requested => "booking_is_requested",
            BookingStatus::PendingPayment => "booking_is_pending_payment",
            BookingStatus::Confirmed => "booking_is_confirmed",
            BookingStatus::InProgress => "booking_is_in_progress",
            BookingStatus::Returned => "booking_is_returned",
            BookingStatus::Declined => "booking_is_declined",
            BookingStatus::Expired => "booking_is_expired",
            BookingStatus::Cancelled => "booking_is_cancelled",
            BookingStatus::Completed => "booking_is_completed",
        }
    }

    /// The transition table: the state after `t`, or 409 naming the current state.
    pub fn after(self, t: Transition) -> Result<BookingStatus, AppError> {
        use BookingStatus::*;
        use Transition::*;
        let next = match (self, t) {
            (Requested, Accept) => PendingPayment,
            (Requested, Decline) => Declined,
            (Requested | PendingPayment, Expire) => Expired,
            (Requested | PendingPayment | Confirmed, Cancel) => Cancelled,
            (PendingPayment, ConfirmPayment) => Confirmed,
            (Confirmed, PickUp) => InProgress,
            (InProgress, Return) => Returned,
            // A confirmed stay nobody picked up ends at its end date; a returned one once
            // its claim window closed.
            (Confirmed | Returned, Complete) => Completed,
            _ => {
                return Err(AppError::conflict(
                    self.conflict_code(),
                    format!("a {} booking cannot be {}", self.as_str(), t.verb()),
                ))
            }
        };
        Ok(next)
    }
}

impl Transition {
    fn verb(self) -> &'static str {
        match self {
            Transition::Accept => "accepted",
            Transition::Decline => "declined",
            Transition::Expire => "expired",
            Transition::Cancel => "cancelled",
            Transition::ConfirmPayment => "confirmed",
            Transition::PickUp => "picked up",
            Transition::Return => "returned",
            Transition::Complete => "completed",
        }
    }

    /// The event announcing the move.
    pub fn event_kind(self) -> &'static str {
        match self {
            Transition::Accept => crate::domain::events::kinds::BOOKING_ACCEPTED,
            Transition::Decline => crate::domain::events::kinds::BOOKING_DECLINED,
            Transition::Expire => crate::domain::events::kinds::BOOKING_EXPIRED,
            Transition::Cancel => crate::domain::events::kinds::BOOKING_CANCELLED,
            Transition::ConfirmPayment => crate::domain::events::kinds::BOOKING_CONFIRMED,
            Transition::PickUp => crate::domain::events::kinds::BOOKING_PICKED_UP,
            Transition::Return => crate::domain::events::kinds::BOOKING_RETURNED,
            Transition::Complete => crate::domain::events::kinds::BOOKING_COMPLETED,
        }
    }
}

/// How long a fresh hold lasts.
pub const REQUEST_HOLD: Duration = Duration::hours(24);
pub const PAYMENT_HOLD: Duration = Duration::minutes(30);
