//! Payout ports: owners' connected accounts, stored on their profiles and opened at Stripe.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::country::Country;
use crate::domain::events::DomainEvent;
use crate::domain::payout_account::PayoutAccount;
use crate::domain::user::UserId;
use crate::error::AppError;

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
    /// not theirs or a report as recent or newer is stored. Whether it was stored.
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
