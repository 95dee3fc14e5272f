//! `GET|PATCH /me/notification-settings`: a member's e-mail switches beside their address (a
//! verified one; none otherwise) and its suppression, read in one batch and one get.

use crate::domain::email::{Category, SettingsPatch};
use crate::domain::Clock;
use crate::error::AppError;
use crate::identity::Caller;
use crate::ports::{EmailLedger, EmailPreferences, ProfileStore, Recipient};
use serde::Serialize;

/// The caller's settings, after applying `patch` when there is one (stored only if it changes
/// something). A caller without a profile yet gets one, as on `GET /me`.
pub async fn settings_view<S, C>(
    store: &S,
    clock: &C,
    caller: &Caller,
    patch: Option<&SettingsPatch>,
) -> Result<NotificationSettingsView, AppError>
where
    S: EmailLedger + EmailPreferences + ProfileStore,
    C: Clock,
{
    let recipient = match store.recipient(&caller.user_id).await? {
        Some(r) => r,
        None => {
            let p = crate::services::ensure_profile(store, clock, caller).await?;
            Recipient::of(&p, Default::default())
        }
    };
    let mut settings = recipient.settings;
    if let Some(patch) = patch {
        let next = settings.patched(patch)?;
        // Every switch the patch names is written, changed or not: one read just before a
        // concurrent one-click unsubscribe must not leave the answer and the store apart.
        let changes: Vec<(Category, bool)> = patch
            .email
            .keys()
            .filter_map(|name| Category::parse(name))
            .filter(|c| c.can_switch_off())
            .map(|c| (c, next.allows(c)))
            .collect();
        if !changes.is_empty() {
            store.switch_email(&caller.user_id, &changes, clock.now()).await?;
            tracing::info!(messages = next.messages, reviews = next.reviews, "e-mail settings changed");
        }
        settings = next;
    }
    let stopped = match &recipient.address {
        Some(a) => store.suppression(a).await?,
        None => None,
    };
    Ok(NotificationSettingsView::of(settings, recipient.address.as_ref(), stopped))
}

/// `GET|PATCH /me/notification-settings`: e-mail per category, which ones stay on, the address
/// e-mail goes to, and why it stopped when it did.
#[derive(Debug, Serialize)]
pub struct NotificationSettingsView {
    pub email: std::collections::BTreeMap<&'static str, bool>,
    pub always_on: Vec<&'static str>,
    pub email_address: Option<String>,
    pub email_stopped: Option<crate::domain::email::Suppression>,
}

impl NotificationSettingsView {
    pub fn of(
        settings: crate::domain::email::EmailSettings,
        address: Option<&crate::domain::email::EmailAddress>,
        stopped: Option<crate::domain::email::Suppression>,
    ) -> Self {
        use crate::domain::email::Category;
        NotificationSettingsView {
            email: Category::ALL.iter().map(|c| (c.as_str(), settings.allows(*c))).collect(),
            always_on: Category::ALL.iter().filter(|c| !c.can_switch_off()).map(|c| c.as_str()).collect(),
            email_address: address.map(|a| a.to_string()),
            email_stopped: stopped,
        }
    }
}
