//! `GET /me/notification-settings` (auth): the caller's e-mail per category (booking and payment
//! e-mails always on), the address it goes to, and why e-mail stopped when SES reported a bounce
//! or a complaint for it (decision 0045).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
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
    let view = shared::email::settings_view(&deps.store, &deps.clock, &caller, None).await?;
    shared::http::json(200, &view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::email::{Category, EmailAddress, Suppression, SuppressionReason};
    use shared::domain::user::UserId;
    use shared::ports::Suppressions;
    use shared::testing::{FixedClock, MemoryStore};

    #[tokio::test]
    async fn shows_each_category_and_why_email_stopped() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let req =
            || lambda_http::request::from_str(include_str!("../../../events/get-notification-settings.json")).unwrap();
        let body = |r: Response<Body>| -> serde_json::Value {
            let Body::Text(t) = r.body() else { panic!("a JSON body") };
            serde_json::from_str(t).unwrap()
        };
        let v = body(handle(req(), &deps).await.unwrap());
        assert_eq!(
            v["email"],
            serde_json::json!({"bookings": true, "payments": true, "messages": true, "reviews": true})
        );
        assert_eq!(v["always_on"], serde_json::json!(["bookings", "payments"]));
        assert!(v["email_stopped"].is_null());

        let user = UserId::parse("0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10").unwrap();
        let address = v["email_address"].as_str().and_then(EmailAddress::parse).expect("the token's address");
        deps.store.switch_email(&user, &[(Category::Messages, false)], deps.clock.0).await.unwrap();
        let s = Suppression {
            address,
            reason: SuppressionReason::Complained,
            since: deps.clock.0,
            feedback_id: "f".into(),
        };
        deps.store.suppress(&s).await.unwrap();
        let v = body(handle(req(), &deps).await.unwrap());
        assert_eq!(v["email"]["messages"], false);
        assert_eq!(v["email_stopped"]["reason"], "complained");
    }
}
