//! Deposit ports: bookings' deposit holds (stored beside the booking), renters' Stripe
//! Customers, and Stripe's authorizations captured later.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::booking::BookingId;
use crate::domain::deposit::Deposit;
use crate::domain::events::DomainEvent;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::PaymentIntent;

/// Bookings' deposits (`Deposit`), with the due list of the deposit task.
#[async_trait]
pub trait DepositStore: Send + Sync {
    async fn get_deposit(&self, booking: &BookingId) -> Result<Option<Deposit>, AppError>;
    /// Stores `next` (with `event`, in the same transaction) if the stored deposit is at
    /// `previous_version` (`None`: only if there is none yet); `PreconditionFailed` otherwise.
    async fn save_deposit(
        &self,
        next: &Deposit,
        previous_version: Option<u64>,
        event: Option<&DomainEvent>,
    ) -> Result<(), AppError>;
    /// Bookings whose deposit has work due at `now` (`Deposit::due_at`), oldest first.
    async fn due_deposits(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError>;
    /// Bookings whose captured deposit is still owed to the owner (`Deposit::owed_to_owner`),
    /// settled before `now`, oldest first.
    async fn due_owner_transfers(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError>;
}

/// Renters' Stripe Customers, which their saved cards belong to.
#[async_trait]
pub trait CustomerStore: Send + Sync {
    async fn customer_of(&self, user: &UserId) -> Result<Option<String>, AppError>;
    /// Links `customer_id` to `user` unless one is linked (two racing first payments link
    /// one); returns the linked one.
    async fn link_customer(&self, user: &UserId, customer_id: &str) -> Result<String, AppError>;
}

/// What Stripe answered to an off-session hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldOutcome {
    /// Authorized: the PaymentIntent waits for capture.
    Authorized(String),
    /// Refused by the card or its issuer (`authentication_required`, `card_declined`, ...).
    Refused(String),
}

/// What a capture took, as Stripe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub amount: i64,
    /// None only when Stripe's answer names no charge (an account on an API version before
    /// `latest_charge` with no `charges` list either): settled, but nothing to transfer from.
    pub charge: Option<String>,
}

/// Stripe, behind the calls deposits make.
#[async_trait]
pub trait DepositGateway: Send + Sync {
    /// Opens `user`'s Customer; the same key returns the same one.
    async fn create_customer(&self, user: &UserId, key: &str) -> Result<String, AppError>;
    /// Authorizes `deposit` off-session on its saved card (`capture_method=manual`); the same
    /// key returns the same outcome.
    async fn hold(&self, deposit: &Deposit, key: &str) -> Result<HoldOutcome, AppError>;
    /// A hold for the renter to confirm with a card of their choice (saved for later holds).
    async fn hold_on_session(&self, deposit: &Deposit, key: &str) -> Result<PaymentIntent, AppError>;
    /// Captures `amount` of hold `intent_id`; the rest is released. Captured, now or before:
    /// what was taken and the charge it made (what the owner's transfer draws on); the hold had
    /// ended (lapsed, cancelled) so nothing could be taken: `Ok(None)`.
    async fn capture(&self, intent_id: &str, amount: i64, key: &str) -> Result<Option<Captured>, AppError>;
    /// Cancels hold `intent_id`. Ended already (cancelled, lapsed): `Ok`.
    async fn release(&self, intent_id: &str, key: &str) -> Result<(), AppError>;
}
