//! E-mail ports (decision 0045): members' switches and the suppressed addresses, the ledger that
//! makes `send-email` send each notification once and each thread at most every 15 minutes, and
//! the mailer.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::domain::email::{Category, EmailAddress, EmailSettings, Suppression};
use crate::domain::user::UserId;
use crate::email::{Composed, LinkKey};
use crate::error::AppError;
use crate::ports::Recorded;

/// A member's e-mail switches and whether their address is suppressed.
#[async_trait]
pub trait EmailPreferences: Send + Sync {
    /// `user`'s switches; the defaults (everything on) when they never chose.
    async fn email_settings(&self, user: &UserId) -> Result<EmailSettings, AppError>;
    /// Switches each named category on or off, and only those: a concurrent change of another
    /// category is kept. Transactional categories are refused by the domain before this.
    async fn switch_email(
        &self,
        user: &UserId,
        changes: &[(Category, bool)],
        now: DateTime<Utc>,
    ) -> Result<(), AppError>;
    /// Why nothing is e-mailed to `address` any more, if that is so.
    async fn suppression(&self, address: &EmailAddress) -> Result<Option<Suppression>, AppError>;
}

/// Addresses SES reported as bounced for good or complained about.
#[async_trait]
pub trait Suppressions: Send + Sync {
    /// Suppresses the address; `Duplicate` when it already was (the first report is kept).
    async fn suppress(&self, suppression: &Suppression) -> Result<Recorded, AppError>;
}

/// Whom `send-email` writes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// `None` when the profile has no address SES can send to, or the identity provider has not
    /// verified it (mail to unverified addresses bounces and hurts the sender's reputation).
    pub address: Option<EmailAddress>,
    pub name: String,
    pub settings: EmailSettings,
}

impl Recipient {
    pub fn of(profile: &crate::domain::user::Profile, settings: EmailSettings) -> Self {
        Recipient {
            address: profile.email.as_deref().filter(|_| profile.email_verified).and_then(EmailAddress::parse),
            name: profile.display_name.as_str().to_owned(),
            settings,
        }
    }
}

/// How a notification's e-mail stands in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// This delivery holds it for `lease`, under this token: send, then finish with it.
    Started(String),
    /// An earlier delivery finished it (its outcome): nothing to do.
    Finished(String),
    /// Another delivery holds it and its lease runs: retry later.
    Busy,
}

#[async_trait]
pub trait EmailLedger: Send + Sync {
    /// `user`'s address, name and switches; `None` when there is no such member.
    async fn recipient(&self, user: &UserId) -> Result<Option<Recipient>, AppError>;
    /// Takes notification `id`'s e-mail for `lease`: `Started` when nothing holds it, or a lease
    /// that was never finished ran out (its delivery crashed).
    async fn begin_email(
        &self,
        user: &UserId,
        id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Begun, AppError>;
    /// Whether notification `id` at `at` may be e-mailed about `thread`: no e-mail went to `user`
    /// about it in the 15 minutes before `at`, or `id` holds the slot already.
    async fn thread_free(&self, user: &UserId, thread: &str, id: &str, at: DateTime<Utc>) -> Result<bool, AppError>;
    /// Takes `thread`'s slot for notification `id` at `at` (once its e-mail went out), on the
    /// same condition: false when that no longer holds.
    async fn hold_thread(&self, user: &UserId, thread: &str, id: &str, at: DateTime<Utc>) -> Result<bool, AppError>;
    /// Records how notification `id`'s e-mail ended (`sent:…`, or why it was not), if this
    /// delivery (`token`) still holds it: false when another took it over after its lease ran out.
    async fn finish_email(
        &self,
        user: &UserId,
        id: &str,
        token: &str,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError>;
}

/// What SES did with an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Accepted; SES's message id.
    Accepted(String),
    /// Refused for good (its error code, e.g. `MessageRejected`): retrying cannot help.
    Rejected(String),
}

/// SES.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `email` with configuration set `configuration_set`. Errors are the retryable
    /// refusals (throttling, sending paused, SES unreachable).
    async fn send(&self, email: &Composed, from: &str, configuration_set: &str) -> Result<Sent, AppError>;
}

/// The unsubscribe links' signing key.
#[async_trait]
pub trait LinkKeys: Send + Sync {
    async fn link_key(&self) -> Result<LinkKey, AppError>;
}
