//! `GET /me` (auth): the caller's profile, created from the token claims on first call; with
//! `email_stopped` when SES reported a bounce or a complaint for its address (decision 0045).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::email::EmailAddress;
use shared::domain::Clock;
use shared::identity::Caller;
use shared::ports::{EmailPreferences, ProfileStore};
use shared::views::ProfileView;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ProfileStore + EmailPreferences,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let profile = shared::services::ensure_profile(&deps.store, &deps.clock, &caller).await?;
    let mut view = ProfileView::from(&profile);
    if let Some(address) = profile.email.as_deref().and_then(EmailAddress::parse) {
        view.email_stopped = deps.store.suppression(&address).await?;
    }
    shared::http::json(200, &view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::{FixedClock, MemoryStore};

    fn deps() -> Deps<MemoryStore, FixedClock> {
        Deps { store: MemoryStore::default(), clock: FixedClock::default() }
    }

    fn fixture() -> Request {
        lambda_http::request::from_str(include_str!("../../../events/get-me.json")).unwrap()
    }

    #[tokio::test]
    async fn first_call_creates_profile_once() {
        let deps = deps();
        for _ in 0..2 {
            let resp = handle(fixture(), &deps).await.unwrap();
            assert_eq!(resp.status(), 200);
            let Body::Text(t) = resp.body() else { panic!() };
            let v: serde_json::Value = serde_json::from_str(t).unwrap();
            assert_eq!(v["display_name"], "Ada Renter");
            assert_eq!(v["user_id"], "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10");
        }
        assert_eq!(deps.store.event_kinds(), vec!["user.registered"], "announced exactly once");
    }

    #[tokio::test]
    async fn says_when_email_to_the_address_stopped() {
        use shared::domain::email::{Suppression, SuppressionReason};
        use shared::ports::Suppressions;
        let deps = deps();
        let body = |r: Response<Body>| -> serde_json::Value {
            let Body::Text(t) = r.body() else { panic!() };
            serde_json::from_str(t).unwrap()
        };
        let v = body(handle(fixture(), &deps).await.unwrap());
        assert!(v.get("email_stopped").is_none());
        let address = EmailAddress::parse(v["email"].as_str().unwrap()).unwrap();
        let since = deps.clock.0;
        deps.store
            .suppress(&Suppression { address, reason: SuppressionReason::Bounced, since, feedback_id: "f".into() })
            .await
            .unwrap();
        let v = body(handle(fixture(), &deps).await.unwrap());
        assert_eq!(v["email_stopped"]["reason"], "bounced");
    }

    #[tokio::test]
    async fn no_claims_is_401() {
        let req = lambda_http::request::from_str(include_str!("../../../events/health.json")).unwrap();
        let err = handle(req, &deps()).await.unwrap_err();
        assert_eq!(err.status(), 401);
    }
}
