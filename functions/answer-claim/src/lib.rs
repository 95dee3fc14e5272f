//! `POST /bookings/{id}/claim/answer` (the booking's renter) with `{"answer": "accept"}` or
//! `{"answer": "contest", "statement", "evidence"?}`: accepting settles the claim for its
//! amount (taken from the deposit hold); contesting escalates it to an operator. Within 48
//! hours of the filing (409 `answer_window_closed`), once (409 `claim_answered`). 404 for
//! anyone not a party or without a claim; 403 for the owner (decision 0043).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::domain::claim::AnswerRequest;
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::ClaimStore;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ClaimStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let body = json_body::<AnswerRequest>(&req)?;
    json(200, &shared::claims::answer(&deps.store, &id, &caller, body, deps.clock.now()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::claim::ClaimRequest;
    use shared::ports::DepositStore;
    use shared::testing::{caller, claimable, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, body: serde_json::Value) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/answer-claim.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(body.to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn the_renter_accepts_and_the_deposit_owes_the_amount() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let now = deps.clock.now();
        let (b, _) = claimable(&deps.store, now).await.unwrap();
        let owner = caller("owner", &[]).unwrap();
        let claim = ClaimRequest { amount: 1500, description: "Dent".into(), evidence: vec![] };
        shared::claims::file(&deps.store, &b.id, &owner, claim, chrono::Duration::hours(48), now).await.unwrap();
        let accept = serde_json::json!({"answer": "accept"});
        assert_eq!(handle(request(b.id.as_str(), "owner", accept.clone()), &deps).await.unwrap_err().status(), 403);
        assert_eq!(handle(request(b.id.as_str(), "stranger", accept.clone()), &deps).await.unwrap_err().status(), 404);
        let resp = handle(request(b.id.as_str(), "renter", accept.clone()), &deps).await.unwrap();
        assert_eq!(resp.status(), 200);
        let deposit = deps.store.get_deposit(&b.id).await.unwrap().unwrap();
        assert_eq!(deposit.damage.as_ref().and_then(|d| d.owed), Some(1500), "owed at once");
        assert_eq!(deposit.due_at(), Some(deposit.updated_at), "the deposit task settles it now");
        let twice = handle(request(b.id.as_str(), "renter", accept), &deps).await.unwrap_err();
        assert_eq!(twice.code(), "claim_answered");
    }
}
