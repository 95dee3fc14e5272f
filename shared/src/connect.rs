//! What Connect events (from owners' connected accounts, queued by the Connect webhook) do:
//! `account.updated` puts Stripe's report onto the owner's profile, newest report wins;
//! `payout.paid` / `payout.failed` record the payout for `GET /me/payouts`. Changes worth
//! telling the owner go out as events with the write. Repeats and reordering settle on the
//! newest report.

use chrono::{DateTime, Utc};

use crate::domain::events::{kinds, DomainEvent};
use crate::domain::payment::StripeEvent;
use crate::domain::payout_account::{AccountChange, OwnerPayout, PayoutAccount};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{OwnerPayouts, PayoutAccountStore, ProfileStore};

/// Applies a verified, queued Connect event. Returns what happened, for the log: `applied`,
/// `stale` (a newer report is stored), or `ignored` (not an account of ours).
pub async fn apply<S>(store: &S, event: &StripeEvent, now: DateTime<Utc>) -> Result<&'static str, AppError>
where
    S: ProfileStore + PayoutAccountStore + OwnerPayouts,
{
    let Some(account_id) = event.account.as_deref() else {
        return Ok("ignored");
    };
    let Some(owner) = store.owner_of_account(account_id).await? else {
        tracing::info!(event_id = %event.id, account_id, "event for an account no owner linked; acknowledged");
        return Ok("ignored");
    };
    let reported_at = DateTime::from_timestamp(event.created, 0).unwrap_or(now);
    let stored = match event.kind.as_str() {
        "account.updated" => report_account(store, &owner, event, reported_at, now).await?,
        "payout.paid" | "payout.failed" => {
            let payout = OwnerPayout::from_stripe(&event.data.object, account_id, reported_at)?;
            let told = (payout.status == "failed").then(|| {
                DomainEvent::new(
                    kinds::PAYOUT_FAILED,
                    format!("user/{owner}"),
                    None,
                    now,
                    serde_json::json!({ "payout_id": payout.id, "amount": payout.amount,
                        "currency": payout.currency, "failure_code": payout.failure_code }),
                )
            });
            let stored = store.record_owner_payout(&owner, &payout, told.as_ref()).await?;
            if stored && told.is_some() {
                crate::metrics::count("PayoutsFailed", &[]);
            }
            stored
        }
        _ => return Ok("ignored"),
    };
    tracing::info!(event_id = %event.id, event_type = %event.kind, user_id = %owner, account_id, stored, "connect event handled");
    Ok(if stored { "applied" } else { "stale" })
}

async fn report_account<S>(
    store: &S,
    owner: &UserId,
    event: &StripeEvent,
    reported_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, AppError>
where
    S: ProfileStore + PayoutAccountStore,
{
    let reported = PayoutAccount::from_stripe(&event.data.object, reported_at)?;
    let before = store.get_profile(owner).await?.and_then(|p| p.payout_account);
    let change = AccountChange::between(before.as_ref(), &reported);
    let told = change.worth_telling(before.as_ref());
    let announcement = DomainEvent::new(
        kinds::PAYOUT_ACCOUNT_UPDATED,
        format!("user/{owner}"),
        None,
        now,
        serde_json::json!({ "account_id": reported.id, "can_receive_transfers": reported.can_receive_transfers(),
            "change": change, "tell_owner": told }),
    );
    let stored = store.report_payout_account(owner, &reported, &announcement).await?;
    if stored && change.transfers == Some(false) {
        crate::metrics::count("PayoutAccountsDisabled", &[]);
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notification;
    use crate::testing::MemoryStore;

    fn event(kind: &str, created: i64, object: serde_json::Value) -> StripeEvent {
        serde_json::from_value(serde_json::json!({"id": format!("evt_{kind}_{created}"), "type": kind,
            "created": created, "account": "acct_owner", "data": {"object": object}}))
        .unwrap()
    }

    fn account(ready: bool) -> serde_json::Value {
        let due: Vec<&str> = if ready { vec![] } else { vec!["external_account"] };
        serde_json::json!({"id": "acct_owner", "country": "DE", "details_submitted": true, "payouts_enabled": ready,
            "capabilities": {"transfers": if ready { "active" } else { "inactive" }},
            "requirements": {"currently_due": due, "past_due": due}})
    }

    /// What the owner is told: the notifications the stored events make, oldest first.
    fn told(store: &MemoryStore) -> Vec<String> {
        let events = store.events.lock().unwrap().clone();
        events.iter().flat_map(|e| notification::for_event(e).unwrap()).map(|n| n.text).collect()
    }

    #[tokio::test]
    async fn stripes_reports_reach_the_profile_and_the_owner_once() {
        let store = MemoryStore::default();
        let owner = UserId::parse("owner").unwrap();
        store.seed_payout_ready(&owner);
        let (now, t) = (Utc::now(), Utc::now().timestamp() + 10);

        let disabled = event("account.updated", t, account(false));
        assert_eq!(apply(&store, &disabled, now).await.unwrap(), "applied");
        assert_eq!(apply(&store, &event("account.updated", t - 5, account(true)), now).await.unwrap(), "stale");
        let profile = store.get_profile(&owner).await.unwrap().unwrap();
        assert!(!profile.payout_account.unwrap().can_receive_transfers(), "the newest report stays");
        // A redelivery of the same report changes nothing worth telling.
        apply(&store, &disabled, now).await.unwrap();

        let failed = event(
            "payout.failed",
            t,
            serde_json::json!({"id": "po_1", "object": "payout", "amount": 4250,
            "currency": "eur", "arrival_date": t, "status": "failed", "failure_code": "account_closed"}),
        );
        assert_eq!(apply(&store, &failed, now).await.unwrap(), "applied");
        assert_eq!(apply(&store, &failed, now).await.unwrap(), "stale", "a redelivered payout event");
        let texts = told(&store);
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(texts[0].contains("paused") && texts[0].contains("your bank account"), "{}", texts[0]);
        assert!(texts[1].contains("42.50 EUR"), "{}", texts[1]);

        let stranger = StripeEvent { account: Some("acct_nobody".into()), ..failed };
        assert_eq!(apply(&store, &stranger, now).await.unwrap(), "ignored");
    }
}
