//! `GET /users/{id}` (public): what anyone may see of a member: display name, member since
//! (a date), rating, rentals completed as renter and as owner, and whether their e-mail and
//! their payout identity are verified. Never e-mail, phone or payout details (decision 0036).
//! 404 when there is no such member. Anonymous answers may be cached for 30 s.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::user::UserId;
use shared::http::{cacheable_when_anonymous, json, path_param};
use shared::ports::MemberRecords;
use shared::views::PublicProfileView;
use shared::AppError;

pub struct Deps<S> {
    pub store: S,
}

pub async fn handle<S: MemberRecords>(req: Request, deps: &Deps<S>) -> Result<Response<Body>, AppError> {
    let id = UserId::parse(&path_param(&req, "id", "user")?)?;
    let (profile, stats) = deps.store.public_member(&id).await?.ok_or(AppError::NotFound("user"))?;
    cacheable_when_anonymous(&req, json(200, &PublicProfileView::of(&profile, &stats))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::payout_account::PayoutAccount;
    use shared::domain::user::{MemberStats, PhoneNumber, Profile};
    use shared::testing::MemoryStore;

    fn request(id: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/get-user.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn body(resp: Response<Body>) -> serde_json::Value {
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        serde_json::from_str(t).unwrap()
    }

    #[tokio::test]
    async fn shows_the_public_record_and_nothing_private() {
        let deps = Deps { store: MemoryStore::default() };
        let id = UserId::parse("member-1").unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-04T05:06:07Z").unwrap().to_utc();
        let mut profile = Profile::register(id.clone(), Some("Ada"), Some("ada@example.com".into()), now);
        profile.email_verified = true;
        profile.phone = Some(PhoneNumber::parse("+4915112345678").unwrap());
        let stripe = serde_json::json!({"id": "acct_secret1", "country": "DE", "details_submitted": true, "payouts_enabled": true});
        profile.payout_account = Some(PayoutAccount::from_stripe(&stripe, now).unwrap());
        deps.store.profiles.lock().unwrap().insert(id.clone(), profile);
        deps.store
            .member_stats
            .lock()
            .unwrap()
            .insert(id.clone(), MemberStats { completed_as_renter: 3, completed_as_owner: 1, ..Default::default() });

        let resp = handle(request("member-1"), &deps).await.unwrap();
        assert_eq!(resp.headers()["cache-control"], "public, max-age=30");
        let v = body(resp).await;
        assert_eq!(
            v,
            serde_json::json!({
                "user_id": "member-1", "display_name": "Ada", "member_since": "2026-03-04",
                "rating": {"average": null, "count": 0},
                "completed_rentals": {"as_renter": 3, "as_owner": 1},
                "verified": {"email": true, "payout_identity": true}
            })
        );
        let text = v.to_string();
        assert!(!text.contains("ada@") && !text.contains("+49") && !text.contains("acct_"), "{text}");

        assert_eq!(handle(request("nobody"), &deps).await.unwrap_err().status(), 404);
        assert_eq!(handle(request("USER#x"), &deps).await.unwrap_err().status(), 400);
    }
}
