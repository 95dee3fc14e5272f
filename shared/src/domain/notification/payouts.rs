//! What an owner is told about their money: a payout account paused, ready or needing
//! information Stripe asks for, and a payout to the bank that failed.

use serde::Deserialize;

use super::Notification;
use crate::domain::events::{kinds, DomainEvent};
use crate::domain::money::{Currency, Money};
use crate::domain::payout_account::AccountChange;
use crate::domain::user::UserId;
use crate::error::AppError;

/// What `user.payout_account_updated` carries (`connect::apply`); `tell_owner` is false for
/// reports that change nothing the owner must act on, and for the account's opening.
#[derive(Debug, Deserialize)]
struct AccountUpdateData {
    #[serde(default)]
    tell_owner: bool,
    #[serde(default)]
    change: AccountChange,
}

/// What `user.payout_failed` carries.
#[derive(Debug, Deserialize)]
struct PayoutFailedData {
    amount: i64,
    currency: String,
    failure_code: Option<String>,
}

pub(super) fn for_payout_event(event: &DomainEvent) -> Result<Vec<Notification>, AppError> {
    let invalid = |why: String| AppError::bad_request("invalid_event", format!("{} {}: {why}", event.kind, event.id));
    let text = if event.kind == kinds::PAYOUT_FAILED {
        let data: PayoutFailedData = serde_json::from_value(event.data.clone()).map_err(|e| invalid(e.to_string()))?;
        let currency = Currency::parse(&data.currency).ok_or_else(|| invalid("unknown currency".into()))?;
        let why = data.failure_code.map(|c| format!(" ({})", c.replace('_', " "))).unwrap_or_default();
        format!(
            "Stripe could not pay {} out to your bank{why}. Check the bank details of your payout account; \
             the money stays in your Stripe balance until then.",
            Money { amount: data.amount, currency }
        )
    } else {
        let data: AccountUpdateData = serde_json::from_value(event.data.clone()).map_err(|e| invalid(e.to_string()))?;
        if !data.tell_owner {
            return Ok(Vec::new());
        }
        account_text(&data.change)
    };
    let owner = event
        .subject
        .strip_prefix("user/")
        .and_then(|raw| UserId::parse(raw).ok())
        .ok_or_else(|| invalid("subject is not a user".into()))?;
    Ok(vec![Notification {
        id: format!("{}-owner", event.id),
        user_id: owner,
        kind: event.kind.clone(),
        booking_id: None,
        inquiry_id: None,
        text,
        read: false,
        created_at: event.occurred_at,
        read_at: None,
    }])
}

fn account_text(change: &AccountChange) -> String {
    let mut words: Vec<String> = Vec::new();
    for w in change.newly_due.iter().map(|r| requirement_words(r)) {
        if !words.contains(&w) {
            words.push(w);
        }
    }
    let due = words.join(", ");
    match change.transfers {
        Some(true) => "Your payout account is ready: your earnings will be transferred to it.".to_owned(),
        Some(false) if due.is_empty() => {
            "Transfers to your payout account are paused by Stripe. Open your payout account to see why; \
             your earnings wait until it is ready again."
                .to_owned()
        }
        Some(false) => format!(
            "Transfers to your payout account are paused: Stripe needs {due}. Your earnings wait until you provide it."
        ),
        None => format!("Stripe needs {due} for your payout account. Provide it to keep receiving your earnings."),
    }
}

/// A Stripe requirement (`individual.verification.document`) in words an owner knows.
fn requirement_words(requirement: &str) -> String {
    let known = [
        ("external_account", "your bank account"),
        ("verification.document", "an identity document"),
        ("verification.additional_document", "a proof of address"),
        ("id_number", "your ID number"),
        ("dob", "your date of birth"),
        ("address", "your address"),
        ("tos_acceptance", "your acceptance of Stripe's terms"),
        ("business_profile", "your business details"),
        ("phone", "your phone number"),
        ("email", "your e-mail address"),
    ];
    known
        .iter()
        .find(|(key, _)| requirement.contains(key))
        .map(|(_, words)| (*words).to_owned())
        .unwrap_or_else(|| requirement.replace(['.', '_'], " "))
}
