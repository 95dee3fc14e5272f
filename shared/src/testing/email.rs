//! E-mail switches, suppressions and the send ledger, with the adapter's conditions; and a
//! mailer that keeps what it was given.

use super::*;
use crate::domain::email::{EmailAddress, EmailSettings, Suppression};
use crate::email::Composed;
use crate::ports::{Begun, EmailLedger, EmailPreferences, Mailer, Recipient, Suppressions};
use chrono::Duration;

#[async_trait]
impl EmailPreferences for MemoryStore {
    async fn email_settings(&self, user: &UserId) -> Result<EmailSettings, AppError> {
        Ok(lock(&self.email_settings).get(user).copied().unwrap_or_default())
    }

    async fn save_email_settings(&self, user: &UserId, s: EmailSettings, _now: DateTime<Utc>) -> Result<(), AppError> {
        lock(&self.email_settings).insert(user.clone(), s);
        Ok(())
    }

    async fn suppression(&self, address: &EmailAddress) -> Result<Option<Suppression>, AppError> {
        Ok(lock(&self.suppressions).get(address).cloned())
    }
}

#[async_trait]
impl Suppressions for MemoryStore {
    async fn suppress(&self, s: &Suppression) -> Result<Recorded, AppError> {
        let mut all = lock(&self.suppressions);
        if all.contains_key(&s.address) {
            return Ok(Recorded::Duplicate);
        }
        all.insert(s.address.clone(), s.clone());
        Ok(Recorded::New)
    }
}

#[async_trait]
impl EmailLedger for MemoryStore {
    async fn recipient(&self, user: &UserId) -> Result<Option<Recipient>, AppError> {
        let Some(p) = lock(&self.profiles).get(user).cloned() else { return Ok(None) };
        Ok(Some(Recipient {
            address: p.email.as_deref().and_then(EmailAddress::parse),
            name: p.display_name.as_str().to_owned(),
            settings: lock(&self.email_settings).get(user).copied().unwrap_or_default(),
        }))
    }

    async fn begin_email(
        &self,
        user: &UserId,
        id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Begun, AppError> {
        let mut ledger = lock(&self.email_ledger);
        let key = (user.clone(), id.to_owned());
        match ledger.get(&key) {
            Some((status, _)) if status != "sending" => return Ok(Begun::Finished(status.clone())),
            Some((_, until)) if *until > now => return Ok(Begun::Busy),
            _ => {}
        }
        ledger.insert(key, ("sending".into(), now + lease));
        Ok(Begun::Started)
    }

    async fn hold_thread(&self, user: &UserId, thread: &str, id: &str, at: DateTime<Utc>) -> Result<bool, AppError> {
        let mut threads = lock(&self.email_threads);
        let key = (user.clone(), thread.to_owned());
        let free = match threads.get(&key) {
            None => true,
            Some((last, holder)) => holder == id || *last <= at - crate::email::THREAD_WINDOW,
        };
        if free {
            threads.insert(key, (at, id.to_owned()));
        }
        Ok(free)
    }

    async fn finish_email(&self, user: &UserId, id: &str, outcome: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        lock(&self.email_ledger).insert((user.clone(), id.to_owned()), (outcome.to_owned(), now));
        Ok(())
    }
}

/// SES as the unit tests see it: every e-mail it was given, or a refusal when `refuse` is set.
#[derive(Default)]
pub struct FakeMailer {
    pub sent: Mutex<Vec<Composed>>,
    pub refuse: Mutex<bool>,
}

#[async_trait]
impl Mailer for FakeMailer {
    async fn send(&self, email: &Composed, _from: &str, _configuration_set: &str) -> Result<String, AppError> {
        if *lock(&self.refuse) {
            return Err(AppError::Unavailable { dependency: "ses".into() });
        }
        let mut sent = lock(&self.sent);
        sent.push(email.clone());
        Ok(format!("fake-{}", sent.len()))
    }
}
