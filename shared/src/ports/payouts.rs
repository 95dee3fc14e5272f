//! Payout ports: owners' connected accounts (stored on their profiles, opened at Stripe), the
//! payouts Stripe reports to them, bookings' payouts, and Stripe's transfers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::cursor::LastKey;
use crate::domain::booking::BookingId;
use crate::domain::country::Country;
use crate::domain::events::DomainEvent;
use crate::domain::payout::Payout;
use crate::domain::payout_account::{OwnerPayout, PayoutAccount};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::Page;

/// Owners' payout accounts, on their profiles.
#[async_trait]
pub trait PayoutAccountStore: Send + Sync {
    /// Links `account` to `user`'s profile with `event`, unless one is linked already (two
    /// racing first calls link one); returns the linked account. `NotFound` without a profile.
    async fn link_payout_account(
        &self,
        user: &UserId,
        account: &PayoutAccount,
        event: &DomainEvent,
    ) -> Result<PayoutAccount, AppError>;
    /// Stores Stripe's report of `user`'s linked account with `event`, unless the account is
    /// not theirs or a newer report is stored (one as new applies: Stripe's `created` is in
    /// seconds). Whether it was stored.
    async fn report_payout_account(
        &self,
        user: &UserId,
        account: &PayoutAccount,
        event: &DomainEvent,
    ) -> Result<bool, AppError>;
}

/// A Stripe-hosted onboarding page for a connected account (single use, minutes long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Stripe Connect, behind the calls onboarding makes.
#[async_trait]
pub trait ConnectGateway: Send + Sync {
    /// Opens an Express account for `user`; the same key returns the same account.
    async fn create_account(
        &self,
        user: &UserId,
        email: Option<&str>,
        country: Country,
        idempotency_key: &str,
    ) -> Result<PayoutAccount, AppError>;
    async fn onboarding_link(
        &self,
        account_id: &str,
        refresh_url: &str,
        return_url: &str,
    ) -> Result<OnboardingLink, AppError>;
}

/// Which owner a connected account belongs to, and the payouts Stripe reported to owners.
#[async_trait]
pub trait OwnerPayouts: Send + Sync {
    /// The owner whose profile links `account_id` (linking records it).
    async fn owner_of_account(&self, account_id: &str) -> Result<Option<UserId>, AppError>;
    /// Stores `payout` for `owner` (with `event`, when its owner is told) if it is newer than
    /// the stored report, or as new and `failed` over a `paid`; never the same report twice, so
    /// a redelivered event announces nothing again. Whether it was stored.
    async fn record_owner_payout(
        &self,
        owner: &UserId,
        payout: &OwnerPayout,
        event: Option<&DomainEvent>,
    ) -> Result<bool, AppError>;
    /// `owner`'s payouts, newest arrival first.
    async fn owner_payouts(
        &self,
        owner: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<OwnerPayout>, AppError>;
}

/// Bookings' payouts to their owners (`Payout`), with the owner's earnings and the due list.
#[async_trait]
pub trait PayoutStore: Send + Sync {
    async fn get_payout(&self, booking: &BookingId) -> Result<Option<Payout>, AppError>;
    /// Stores `next` if the stored payout is at `previous_version` (`None`: only if there is
    /// none yet); `PreconditionFailed` otherwise.
    async fn save_payout(&self, next: &Payout, previous_version: Option<u64>) -> Result<(), AppError>;
    /// Bookings whose payout has work due at `now` (a transfer or a reversal), oldest first.
    async fn due_payouts(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError>;
    /// `owner`'s payouts, newest booking first.
    async fn earnings(&self, owner: &UserId, limit: u32, start: Option<LastKey>) -> Result<Page<Payout>, AppError>;
}

/// A transfer to a connected account as Stripe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: String,
    pub amount: i64,
    pub reversed: i64,
}

/// Stripe's transfers to owners and their reversals.
#[async_trait]
pub trait TransferGateway: Send + Sync {
    /// Transfers `amount` of `payout`'s charge to `destination` (transfer group: the booking);
    /// the same `key` returns the same transfer.
    async fn transfer(&self, payout: &Payout, amount: i64, destination: &str, key: &str) -> Result<Transfer, AppError>;
    /// The transfers made for `booking` (its transfer group), newest first.
    async fn transfers_of(&self, booking: &BookingId) -> Result<Vec<Transfer>, AppError>;
    /// Reverses `amount` of `transfer_id`; the same `key` returns the same reversal. Its id.
    async fn reverse(&self, transfer_id: &str, amount: i64, key: &str) -> Result<String, AppError>;
    /// Transfers `amount` captured from `booking`'s deposit, drawn on its capture's `charge`, to
    /// `destination` (transfer group `deposit-{booking}`, apart from the rental's); the same
    /// `key` returns the same transfer.
    async fn transfer_deposit(
        &self,
        booking: &BookingId,
        currency: crate::domain::money::Currency,
        amount: i64,
        charge: &str,
        destination: &str,
        key: &str,
    ) -> Result<Transfer, AppError>;
    /// The transfers made of `booking`'s deposit (its group), newest first.
    async fn deposit_transfers_of(&self, booking: &BookingId) -> Result<Vec<Transfer>, AppError>;
}
