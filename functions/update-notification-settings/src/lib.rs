//! `PATCH /me/notification-settings` (auth): switches e-mail categories on or off,
//! `{"email": {"messages": false}}`. Booking and payment e-mails cannot be switched off (400
//! naming the field); unknown categories are refused the same way (decision 0045).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::email::SettingsPatch;
use shared::domain::Clock;
use shared::identity::Caller;
use shared::ports::{EmailLedger, EmailPreferences, ProfileStore};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: EmailLedger + EmailPreferences + ProfileStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let patch = shared::http::json_body::<SettingsPatch>(&req)?;
    let view = shared::email::settings_view(&deps.store, &deps.clock, &caller, Some(&patch)).await?;
    shared::http::json(200, &view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::email::EmailSettings;
    use shared::domain::user::UserId;
    use shared::ports::EmailPreferences;
    use shared::testing::{FixedClock, MemoryStore};

    fn request(body: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/update-notification-settings.json")).unwrap();
        v["body"] = serde_json::json!(body);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn switches_a_category_off_and_refuses_transactional_ones() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let resp = handle(request(r#"{"email": {"messages": false}}"#), &deps).await.unwrap();
        assert_eq!(resp.status(), 200);
        let user = UserId::parse("0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10").unwrap();
        assert_eq!(deps.store.email_settings(&user).await.unwrap(), EmailSettings { messages: false, reviews: true });

        let err = handle(request(r#"{"email": {"bookings": false, "reviews": false}}"#), &deps).await.unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(deps.store.email_settings(&user).await.unwrap().reviews, "nothing stored");
        for bad in [r#"{"email": {"messages": "no"}}"#, r#"{"push": {}}"#, "not json"] {
            assert_eq!(handle(request(bad), &deps).await.unwrap_err().status(), 400, "{bad}");
        }
    }
}
