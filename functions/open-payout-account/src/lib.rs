//! `POST /me/payout-account` (auth) with `{"country"}`: opens the caller's Stripe Express
//! account (decision 0031) with their e-mail, links it to their profile, and answers a
//! Stripe-hosted onboarding link. Called again, it answers a fresh link for the same account:
//! the account is created with the idempotency key `payout-account-{user}` and linked only if
//! none is, so racing calls open one account. 201 when this call opened it, else 200.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::domain::events::{kinds, DomainEvent};
use shared::domain::payout_account::payout_country;
use shared::domain::Clock;
use shared::http::{json, json_body};
use shared::identity::Caller;
use shared::ports::{ConnectGateway, PayoutAccountStore, ProfileStore};
use shared::views::PayoutAccountView;
use shared::AppError;

pub struct Deps<S, G, C> {
    pub store: S,
    pub gateway: G,
    pub clock: C,
    /// Where Stripe sends the owner back: an expired link's `refresh_url`, and `return_url`.
    pub refresh_url: String,
    pub return_url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRequest {
    country: Option<String>,
}

pub async fn handle<S, G, C>(req: Request, deps: &Deps<S, G, C>) -> Result<Response<Body>, AppError>
where
    S: ProfileStore + PayoutAccountStore,
    G: ConnectGateway,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let body = if req.body().is_empty() { OpenRequest::default() } else { json_body::<OpenRequest>(&req)? };
    let profile = shared::services::ensure_profile(&deps.store, &deps.clock, &caller).await?;
    let (account, opened) = match profile.payout_account {
        Some(account) => (account, false),
        None => {
            let country = payout_country(body.country.as_deref())?;
            let key = format!("payout-account-{}", caller.user_id);
            let created = deps.gateway.create_account(&caller.user_id, profile.email.as_deref(), country, &key).await?;
            let event = DomainEvent::new(
                kinds::PAYOUT_ACCOUNT_UPDATED,
                format!("user/{}", caller.user_id),
                Some(caller.user_id.to_string()),
                deps.clock.now(),
                serde_json::json!({ "account_id": created.id, "opened": true }),
            );
            let linked = deps.store.link_payout_account(&caller.user_id, &created, &event).await?;
            // A racing call that linked first got the same account from Stripe (same key).
            let opened = linked == created;
            tracing::info!(user_id = %caller.user_id, account_id = %linked.id, opened, "payout account linked");
            (linked, opened)
        }
    };
    let link = deps.gateway.onboarding_link(&account.id, &deps.refresh_url, &deps.return_url).await?;
    json(
        if opened { 201 } else { 200 },
        &serde_json::json!({
            "account": PayoutAccountView::from(&account),
            "onboarding_url": link.url,
            "onboarding_url_expires_at": link.expires_at,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::{FakeGateway, FixedClock, MemoryStore};

    fn deps() -> Deps<MemoryStore, FakeGateway, FixedClock> {
        Deps {
            store: MemoryStore::default(),
            gateway: FakeGateway::default(),
            clock: FixedClock::default(),
            refresh_url: "https://app.example.test/payouts/refresh".into(),
            return_url: "https://app.example.test/payouts/done".into(),
        }
    }

    fn request(body: Option<&str>) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/open-payout-account.json")).unwrap();
        v["body"] = body.map_or(serde_json::Value::Null, |b| serde_json::json!(b));
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    fn parsed(resp: &Response<Body>) -> serde_json::Value {
        let Body::Text(t) = resp.body() else { panic!() };
        serde_json::from_str(t).unwrap()
    }

    #[tokio::test]
    async fn opens_one_account_and_answers_fresh_links() {
        let deps = deps();
        let fixture = lambda_http::request::from_str(include_str!("../../../events/open-payout-account.json")).unwrap();
        let first = handle(fixture, &deps).await.unwrap();
        assert_eq!(first.status(), 201);
        let v = parsed(&first);
        assert_eq!((v["account"]["id"].as_str(), v["account"]["country"].as_str()), (Some("acct_1"), Some("DE")));
        assert!(v["onboarding_url"].as_str().unwrap().contains("acct_1"));
        let again = handle(request(None), &deps).await.unwrap();
        assert_eq!((again.status().as_u16(), parsed(&again)["account"]["id"].as_str()), (200, Some("acct_1")));
        assert_eq!(deps.gateway.accounts.lock().unwrap().len(), 1, "never a second account");
        assert_eq!(deps.store.event_kinds(), vec!["user.registered", "user.payout_account_updated"]);
    }

    #[tokio::test]
    async fn the_country_is_checked_before_stripe_is_called() {
        let deps = deps();
        for body in [None, Some(r#"{"country": "KP"}"#), Some(r#"{"country": "DE", "iban": "x"}"#)] {
            let err = handle(request(body), &deps).await.unwrap_err();
            assert_eq!(err.status(), 400, "{body:?}");
        }
        assert!(deps.gateway.accounts.lock().unwrap().is_empty());
    }
}
