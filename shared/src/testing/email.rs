//! E-mail switches, suppressions and the send ledger, with the adapter's conditions; and a
//! mailer that keeps what it was given.

use super::*;
use crate::domain::email::{Category, EmailAddress, EmailSettings, Suppression};
use crate::email::Composed;
use crate::ports::{Begun, EmailLedger, EmailPreferences, Mailer, Recipient, Sent, Suppressions};
use chrono::Duration;

#[async_trait]
impl EmailPreferences for MemoryStore {
    async fn email_settings(&self, user: &UserId) -> Result<EmailSettings, AppError> {
        Ok(lock(&self.email_settings).get(user).copied().unwrap_or_default())
    }

    async fn switch_email(
        &self,
        user: &UserId,
        changes: &[(Category, bool)],
        _now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let mut all = lock(&self.email_settings);
        let settings = all.entry(user.clone()).or_default();
        for (category, on) in changes {
            if let Ok(next) = settings.switched(*category, *on) {
                *settings = next;
            }
        }
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
        Ok(Some(Recipient::of(&p, lock(&self.email_settings).get(user).copied().unwrap_or_default())))
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
        // The adapter's condition, to its millisecond: taken over only once `lease_until < now`.
        match ledger.get(&key) {
            Some((status, _, _)) if status != "sending" => return Ok(Begun::Finished(status.clone())),
            Some((_, until, _)) if until.timestamp_millis() >= now.timestamp_millis() => return Ok(Begun::Busy),
            _ => {}
        }
        let token = uuid::Uuid::new_v4().to_string();
        ledger.insert(key, ("sending".into(), now + lease, token.clone()));
        Ok(Begun::Started(token))
    }

    async fn thread_free(&self, user: &UserId, thread: &str, id: &str, at: DateTime<Utc>) -> Result<bool, AppError> {
        // The adapter's condition, to its millisecond.
        let cutoff = (at - crate::email::THREAD_WINDOW).timestamp_millis();
        Ok(match lock(&self.email_threads).get(&(user.clone(), thread.to_owned())) {
            None => true,
            Some((last, holder)) => holder == id || last.timestamp_millis() <= cutoff,
        })
    }

    async fn hold_thread(&self, user: &UserId, thread: &str, id: &str, at: DateTime<Utc>) -> Result<bool, AppError> {
        let free = self.thread_free(user, thread, id, at).await?;
        if free {
            lock(&self.email_threads).insert((user.clone(), thread.to_owned()), (at, id.to_owned()));
        }
        Ok(free)
    }

    async fn finish_email(
        &self,
        user: &UserId,
        id: &str,
        token: &str,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        let mut ledger = lock(&self.email_ledger);
        let key = (user.clone(), id.to_owned());
        match ledger.get(&key) {
            Some((status, _, held)) if status == "sending" && held == token => {
                ledger.insert(key, (outcome.to_owned(), now, String::new()));
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// SES as the unit tests see it: every e-mail it was given, with the sender and configuration
/// set it was given with; a retryable refusal while `refuse` is set or for the addresses in
/// `refuse_to`, and a final one (`MessageRejected`) for those in `reject`.
#[derive(Default)]
pub struct FakeMailer {
    pub sent: Mutex<Vec<Composed>>,
    /// (from, configuration set) of each sent e-mail, in order.
    pub sent_with: Mutex<Vec<(String, String)>>,
    pub refuse: Mutex<bool>,
    pub refuse_to: Mutex<Vec<String>>,
    pub reject: Mutex<Vec<String>>,
}

#[async_trait]
impl Mailer for FakeMailer {
    async fn send(&self, email: &Composed, from: &str, configuration_set: &str) -> Result<Sent, AppError> {
        if *lock(&self.refuse) || lock(&self.refuse_to).iter().any(|a| a == email.to.key()) {
            return Err(AppError::Unavailable { dependency: "ses".into() });
        }
        if lock(&self.reject).iter().any(|a| a == email.to.key()) {
            return Ok(Sent::Rejected("MessageRejected".into()));
        }
        lock(&self.sent_with).push((from.to_owned(), configuration_set.to_owned()));
        let mut sent = lock(&self.sent);
        sent.push(email.clone());
        Ok(Sent::Accepted(format!("fake-{}", sent.len())))
    }
}
