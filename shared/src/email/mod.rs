//! E-mail workflow (decision 0045): a notification that matters outside the app goes out by SES
//! once, to a member with a verified address that is not suppressed who has not switched its
//! category off; a thread's messages at most once per 15 minutes.

mod links;
mod render;
mod settings;

pub use links::LinkKey;
pub use render::{compose, Composed, EmailConfig};
pub use settings::{settings_view, NotificationSettingsView};

use chrono::{DateTime, Duration, Utc};

use crate::domain::email::Category;
use crate::domain::notification::Notification;
use crate::error::AppError;
use crate::ports::{Begun, EmailLedger, EmailPreferences, LinkKeys, Mailer, Sent};

/// At most one e-mail per thread and recipient in this long.
pub const THREAD_WINDOW: Duration = Duration::minutes(15);
/// How long a delivery holds a notification's e-mail: past the function's timeout (10 s), within
/// the queue's visibility timeout (60 s), so a crashed delivery's retry takes it over.
pub const LEASE: Duration = Duration::seconds(45);

/// How one notification's e-mail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent now; SES's message id.
    Sent(String),
    /// An earlier delivery finished it (its outcome): nothing sent again.
    AlreadyDone(String),
    /// Not sent, and why (`switched_off`, `suppressed`, `coalesced`, `no_address`, ...).
    Skipped(&'static str),
    /// SES refused it for good (its error code): not retried.
    Rejected(String),
}

impl Outcome {
    fn record(&self) -> String {
        match self {
            Outcome::Sent(id) => format!("sent:{id}"),
            Outcome::AlreadyDone(o) => o.clone(),
            Outcome::Skipped(why) => format!("skipped:{why}"),
            Outcome::Rejected(code) => format!("rejected:{code}"),
        }
    }
}

/// What sending needs.
pub struct Mail<'a, S, M, K> {
    pub store: &'a S,
    pub mailer: &'a M,
    pub keys: &'a K,
    pub config: &'a EmailConfig,
}

/// E-mails notification `n` (see the module), exactly once however often it is delivered. An
/// error leaves the notification's lease to run out, so the retry sends it.
pub async fn deliver<S, M, K>(
    n: &Notification,
    mail: &Mail<'_, S, M, K>,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError>
where
    S: EmailLedger + EmailPreferences,
    M: Mailer,
    K: LinkKeys,
{
    let Some(category) = Category::of_kind(&n.kind) else { return Ok(Outcome::Skipped("not_emailed")) };
    let token = match mail.store.begin_email(&n.user_id, &n.id, now, LEASE).await? {
        Begun::Finished(outcome) => return Ok(Outcome::AlreadyDone(outcome)),
        Begun::Busy => {
            return Err(AppError::internal(format!("notification {}'s e-mail is held by another delivery", n.id)))
        }
        Begun::Started(token) => token,
    };
    let outcome = send_or_skip(n, category, mail, now).await?;
    match mail.store.finish_email(&n.user_id, &n.id, &token, &outcome.record(), now).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::error!(notification_id = %n.id, "e-mail lease ran out before it was finished: another delivery took it over")
        }
        // Once SES has it, failing the message would send it again: the lease runs out instead,
        // and only a redelivery after that (none is due) could repeat it.
        Err(err) if matches!(outcome, Outcome::Sent(_)) => {
            tracing::error!(notification_id = %n.id, error = %err.for_log(), "e-mail sent but not recorded")
        }
        Err(err) => return Err(err),
    }
    Ok(outcome)
}

async fn send_or_skip<S, M, K>(
    n: &Notification,
    category: Category,
    mail: &Mail<'_, S, M, K>,
    now: DateTime<Utc>,
) -> Result<Outcome, AppError>
where
    S: EmailLedger + EmailPreferences,
    M: Mailer,
    K: LinkKeys,
{
    let Some(recipient) = mail.store.recipient(&n.user_id).await? else { return Ok(Outcome::Skipped("no_member")) };
    let Some(address) = recipient.address else { return Ok(Outcome::Skipped("no_address")) };
    if !recipient.settings.allows(category) {
        return Ok(Outcome::Skipped("switched_off"));
    }
    if mail.store.suppression(&address).await?.is_some() {
        return Ok(Outcome::Skipped("suppressed"));
    }
    // A thread's slot is checked before the send and taken after it, so a send that fails (or
    // is skipped) never holds it; a thread's events are one FIFO group, so nothing runs between.
    let thread = match category {
        Category::Messages => Some(match (&n.booking_id, &n.inquiry_id) {
            (Some(b), _) => format!("booking/{b}"),
            (None, Some(i)) => format!("inquiry/{i}"),
            (None, None) => return Err(AppError::internal(format!("message notification {} names no thread", n.id))),
        }),
        _ => None,
    };
    if let Some(thread) = &thread {
        if !mail.store.thread_free(&n.user_id, thread, &n.id, n.created_at).await? {
            return Ok(Outcome::Skipped("coalesced"));
        }
    }
    let unsubscribe = match category.can_switch_off() {
        true => Some(mail.keys.link_key().await?.unsubscribe_url(&mail.config.api_base_url, &n.user_id, category)?),
        false => None,
    };
    let email = compose(n, category, &address, &recipient.name, unsubscribe.as_deref(), mail.config, now)?;
    match mail.mailer.send(&email, mail.config.from_address(), &mail.config.configuration_set).await? {
        Sent::Rejected(code) => {
            tracing::warn!(notification_id = %n.id, domain = address.domain(), code = %code, "SES refused the e-mail for good");
            crate::metrics::count("EmailsRejected", &[]);
            Ok(Outcome::Rejected(code))
        }
        Sent::Accepted(id) => {
            // SES has it: nothing after this may fail the message (its retry would send it again).
            if let Some(thread) = &thread {
                match mail.store.hold_thread(&n.user_id, thread, &n.id, n.created_at).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(notification_id = %n.id, "thread slot taken meanwhile; the e-mail went out")
                    }
                    Err(err) => {
                        tracing::error!(notification_id = %n.id, error = %err.for_log(), "thread slot not taken")
                    }
                }
            }
            Ok(Outcome::Sent(id))
        }
    }
}
