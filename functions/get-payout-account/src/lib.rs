//! `GET /me/payout-account` (auth): the caller's payout account as Stripe last reported it
//! (its creation, then `account.updated`): whether details are submitted, charges and payouts
//! enabled, what Stripe still needs, and why it is disabled. 404 before one is opened.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::http::json;
use shared::identity::Caller;
use shared::ports::ProfileStore;
use shared::views::PayoutAccountView;
use shared::AppError;

pub struct Deps<S> {
    pub store: S,
}

pub async fn handle<S: ProfileStore>(req: Request, deps: &Deps<S>) -> Result<Response<Body>, AppError> {
    let caller = Caller::from_request(&req)?;
    let profile = deps.store.get_profile(&caller.user_id).await?;
    let account = profile.and_then(|p| p.payout_account).ok_or(AppError::NotFound("payout account"))?;
    json(200, &PayoutAccountView::from(&account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::user::{Profile, UserId};
    use shared::ports::{ConnectGateway, PayoutAccountStore};
    use shared::testing::{FakeGateway, FixedClock, MemoryStore};

    fn fixture() -> Request {
        lambda_http::request::from_str(include_str!("../../../events/get-payout-account.json")).unwrap()
    }

    #[tokio::test]
    async fn shows_the_account_once_opened() {
        let deps = Deps { store: MemoryStore::default() };
        assert_eq!(handle(fixture(), &deps).await.unwrap_err().status(), 404, "no profile yet");
        let user = UserId::parse("0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10").unwrap();
        let now = shared::domain::Clock::now(&FixedClock::default());
        let profile = Profile::register(user.clone(), None, None, now);
        deps.store.profiles.lock().unwrap().insert(user.clone(), profile);
        assert_eq!(handle(fixture(), &deps).await.unwrap_err().status(), 404, "no account yet");
        let country = shared::domain::country::Country::parse("DE").unwrap();
        let account = FakeGateway::default().create_account(&user, None, country, "k").await.unwrap();
        let event = shared::domain::events::DomainEvent::new("x", "user/u".into(), None, now, serde_json::json!({}));
        deps.store.link_payout_account(&user, &account, &event).await.unwrap();
        let resp = handle(fixture(), &deps).await.unwrap();
        let Body::Text(t) = resp.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!((v["id"].as_str(), v["payouts_enabled"].as_bool()), (Some("acct_1"), Some(false)));
        assert_eq!(v["requirements"]["currently_due"], serde_json::json!(["external_account"]));
    }
}
