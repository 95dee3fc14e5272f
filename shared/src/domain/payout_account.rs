//! An owner's payout account: a Stripe Connect Express account (decision 0031), onboarded on
//! Stripe's hosted pages, as Stripe last reported it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::country::Country;
use super::money::Currency;
use crate::error::AppError;

/// The countries where Stripe offers Express accounts to a European platform's owners (Stripe's
/// cross-border payouts list, kept short on purpose: more are one line each).
const SUPPORTED: [&str; 36] = [
    "AT", "AU", "BE", "BG", "CA", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE",
    "IT", "JP", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "NZ", "PL", "PT", "RO", "SE", "SI", "SK", "US",
];

/// A country an owner may open a payout account in, or a 400 naming the field.
pub fn payout_country(raw: Option<&str>) -> Result<Country, AppError> {
    let raw = raw.ok_or_else(|| AppError::field("country", "is required to open a payout account"))?;
    match Country::parse(raw) {
        Some(c) if SUPPORTED.contains(&c.code()) => Ok(c),
        Some(_) => Err(AppError::field("country", "payout accounts are not available in this country")),
        None => Err(AppError::field("country", "must be an ISO 3166-1 alpha-2 code")),
    }
}

/// A connected account's state as Stripe last reported it (its creation, then
/// `account.updated` events, applied newest-wins by `reported_at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayoutAccount {
    pub id: String,
    pub country: Country,
    pub details_submitted: bool,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    /// Whether the `transfers` capability is active: what receiving our transfers needs.
    pub transfers_active: bool,
    pub currently_due: Vec<String>,
    pub past_due: Vec<String>,
    pub disabled_reason: Option<String>,
    /// When Stripe reported this state (its object's creation or the event's `created`).
    pub reported_at: DateTime<Utc>,
}

impl PayoutAccount {
    /// Whether transfers to this account go through, and its listings may be published.
    pub fn can_receive_transfers(&self) -> bool {
        self.transfers_active && self.payouts_enabled
    }

    /// The state in a Stripe `account` object (as Stripe's API and `account.updated` send it).
    pub fn from_stripe(object: &serde_json::Value, reported_at: DateTime<Utc>) -> Result<Self, AppError> {
        let invalid = || AppError::internal("Stripe sent an account without id or country");
        let strings = |path: &str| -> Vec<String> {
            object
                .pointer(path)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let flag = |name: &str| object.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
        Ok(PayoutAccount {
            id: object.get("id").and_then(|v| v.as_str()).ok_or_else(invalid)?.to_owned(),
            country: object.get("country").and_then(|v| v.as_str()).and_then(Country::parse).ok_or_else(invalid)?,
            details_submitted: flag("details_submitted"),
            charges_enabled: flag("charges_enabled"),
            payouts_enabled: flag("payouts_enabled"),
            transfers_active: object.pointer("/capabilities/transfers").and_then(|v| v.as_str()) == Some("active"),
            currently_due: strings("/requirements/currently_due"),
            past_due: strings("/requirements/past_due"),
            disabled_reason: object
                .pointer("/requirements/disabled_reason")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            reported_at,
        })
    }
}

/// A payout Stripe made (or failed to make) from an owner's connected account to their bank,
/// as its `payout.paid` / `payout.failed` events report it; the newest report wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerPayout {
    pub id: String,
    pub account_id: String,
    pub amount: i64,
    pub currency: Currency,
    pub arrival_date: DateTime<Utc>,
    /// `paid` or `failed`.
    pub status: String,
    pub failure_code: Option<String>,
    pub reported_at: DateTime<Utc>,
}

impl OwnerPayout {
    /// The payout in a Stripe `payout` object sent for `account`.
    pub fn from_stripe(
        object: &serde_json::Value,
        account: &str,
        reported_at: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        let invalid = |what: &str| AppError::bad_request("invalid_event", format!("Stripe payout without {what}"));
        let text = |name: &str| object.get(name).and_then(|v| v.as_str());
        let status = text("status").ok_or_else(|| invalid("status"))?;
        Ok(OwnerPayout {
            id: text("id").ok_or_else(|| invalid("id"))?.to_owned(),
            account_id: account.to_owned(),
            amount: object.get("amount").and_then(|v| v.as_i64()).ok_or_else(|| invalid("amount"))?,
            currency: text("currency")
                .and_then(|c| Currency::parse(&c.to_ascii_uppercase()))
                .ok_or_else(|| invalid("currency"))?,
            arrival_date: object
                .get("arrival_date")
                .and_then(|v| v.as_i64())
                .and_then(|t| DateTime::from_timestamp(t, 0))
                .ok_or_else(|| invalid("arrival_date"))?,
            status: status.to_owned(),
            failure_code: text("failure_code").map(str::to_owned),
            reported_at,
        })
    }
}

/// What changed between two reports of an account, for telling its owner.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountChange {
    /// Requirements due now that were not before.
    pub newly_due: Vec<String>,
    /// `Some(true)`: the account can receive transfers again; `Some(false)`: it no longer can.
    pub transfers: Option<bool>,
}

impl AccountChange {
    pub fn between(before: Option<&PayoutAccount>, after: &PayoutAccount) -> Self {
        let was_due = |f: &String| before.is_some_and(|b| b.currently_due.contains(f));
        let could = before.is_some_and(PayoutAccount::can_receive_transfers);
        let can = after.can_receive_transfers();
        AccountChange {
            newly_due: after.currently_due.iter().filter(|f| !was_due(f)).cloned().collect(),
            // A new account that cannot receive yet is not news; one that stops, or starts, is.
            transfers: (could != can && (can || before.is_some())).then_some(can),
        }
    }

    pub fn worth_telling(&self, before: Option<&PayoutAccount>) -> bool {
        self.transfers.is_some() || (before.is_some_and(|b| b.details_submitted) && !self.newly_due.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stripes_account_object() {
        let object = serde_json::json!({
            "id": "acct_1", "object": "account", "country": "DE", "details_submitted": true,
            "charges_enabled": true, "payouts_enabled": true, "capabilities": {"transfers": "active"},
            "requirements": {"currently_due": [], "past_due": [], "disabled_reason": null}
        });
        let a = PayoutAccount::from_stripe(&object, Utc::now()).unwrap();
        assert!(a.can_receive_transfers());
        assert_eq!((a.id.as_str(), a.country.code(), a.disabled_reason), ("acct_1", "DE", None));
        let disabled = serde_json::json!({
            "id": "acct_1", "country": "DE", "payouts_enabled": false, "capabilities": {"transfers": "inactive"},
            "requirements": {"currently_due": ["external_account"], "past_due": ["external_account"],
                "disabled_reason": "requirements.past_due"}
        });
        let a = PayoutAccount::from_stripe(&disabled, Utc::now()).unwrap();
        assert!(!a.can_receive_transfers());
        assert_eq!((a.currently_due.len(), a.disabled_reason.as_deref()), (1, Some("requirements.past_due")));
        assert!(PayoutAccount::from_stripe(&serde_json::json!({"id": "acct_1"}), Utc::now()).is_err());
    }

    #[test]
    fn countries() {
        assert_eq!(payout_country(Some("de")).unwrap().code(), "DE");
        for (raw, why) in [(None, "is required"), (Some("KP"), "not available"), (Some("XX"), "alpha-2")] {
            let AppError::Validation(errors) = payout_country(raw).unwrap_err() else { panic!() };
            assert!(errors[0].message.contains(why), "{raw:?}");
        }
    }

    #[test]
    fn changes_worth_telling() {
        let at = Utc::now();
        let ready = PayoutAccount::from_stripe(
            &serde_json::json!({"id": "acct_1", "country": "DE", "details_submitted": true, "payouts_enabled": true,
                "capabilities": {"transfers": "active"}, "requirements": {"currently_due": []}}),
            at,
        )
        .unwrap();
        let fresh = PayoutAccount {
            details_submitted: false,
            payouts_enabled: false,
            transfers_active: false,
            currently_due: vec!["external_account".into()],
            ..ready.clone()
        };
        let c = AccountChange::between(None, &fresh);
        assert!(!c.worth_telling(None), "opening an account is not news");
        assert_eq!(AccountChange::between(Some(&fresh), &ready).transfers, Some(true), "enabled");
        let disabled = PayoutAccount {
            payouts_enabled: false,
            currently_due: vec!["individual.id_number".into()],
            ..ready.clone()
        };
        let c = AccountChange::between(Some(&ready), &disabled);
        assert_eq!((c.transfers, c.newly_due.clone()), (Some(false), vec!["individual.id_number".to_owned()]));
        assert!(c.worth_telling(Some(&ready)));
        assert!(!AccountChange::between(Some(&ready), &ready).worth_telling(Some(&ready)), "a repeat is not news");
    }

    #[test]
    fn reads_stripes_payout_object() {
        let p = OwnerPayout::from_stripe(
            &serde_json::json!({"id": "po_1", "object": "payout", "amount": 9700, "currency": "eur",
                "arrival_date": 1_800_000_000, "status": "failed", "failure_code": "account_closed"}),
            "acct_1",
            Utc::now(),
        )
        .unwrap();
        assert_eq!((p.amount, p.currency.code(), p.failure_code.as_deref()), (9700, "EUR", Some("account_closed")));
        assert!(OwnerPayout::from_stripe(&serde_json::json!({"id": "po_1"}), "acct_1", Utc::now()).is_err());
    }
}
