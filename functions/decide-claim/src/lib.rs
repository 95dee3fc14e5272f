//! `POST /admin/claims/{id}/decision` (operators) with `{amount, note}`: settles a contested
//! claim for `amount` (0 to what was claimed), taken from the deposit hold by the deposit task;
//! the note and the operator are in the claim and the audit trail, and both parties are told.
//! 409 `claim_not_escalated` for a claim not contested; 403 for anyone else, and for an operator
//! who is a party of the booking (decision 0043).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::claim::{ClaimId, DecisionRequest};
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
    let id = ClaimId::parse(&path_param(&req, "id", "claim")?)?;
    let body = json_body::<DecisionRequest>(&req)?;
    json(200, &shared::claims::decide(&deps.store, &id, &caller, body, deps.clock.now()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::claim::{AnswerRequest, ClaimRequest};
    use shared::testing::{caller, claimable, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, groups: &str, body: serde_json::Value) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/decide-claim.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = serde_json::json!(groups);
        v["body"] = serde_json::json!(body.to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn an_operator_who_is_no_party_decides_a_contested_claim() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default() };
        let now = deps.clock.now();
        let (b, _) = claimable(&deps.store, now).await.unwrap();
        let claim = ClaimRequest { amount: 3000, description: "Dent".into(), evidence: vec![] };
        let window = chrono::Duration::hours(48);
        let filed =
            shared::claims::file(&deps.store, &b.id, &caller("owner", &[]).unwrap(), claim, window, now).await.unwrap();
        let id = filed.id.as_str();
        let decision = serde_json::json!({"amount": 1000, "note": "A third: the mark was small"});
        let status = |r: Result<Response<Body>, AppError>| r.map_or_else(|e| e.code(), |_| "ok");
        assert_eq!(
            status(handle(request(id, "op", "operators", decision.clone()), &deps).await),
            "claim_not_escalated"
        );
        let contest = AnswerRequest { answer: "contest".into(), statement: Some("Not me".into()), evidence: vec![] };
        shared::claims::answer(&deps.store, &b.id, &caller("renter", &[]).unwrap(), contest, now).await.unwrap();
        assert_eq!(status(handle(request(id, "op", "support", decision.clone()), &deps).await), "forbidden");
        assert_eq!(
            status(handle(request(id, "owner", "operators", decision.clone()), &deps).await),
            "forbidden",
            "a party"
        );
        let over = serde_json::json!({"amount": 3001, "note": "More"});
        assert_eq!(status(handle(request(id, "op", "operators", over), &deps).await), "validation_failed");
        let resp = handle(request(id, "op", "operators", decision), &deps).await.unwrap();
        assert_eq!(resp.status(), 200);
        let stored = shared::ports::DepositStore::get_deposit(&deps.store, &b.id).await.unwrap().unwrap();
        assert_eq!(stored.damage.and_then(|d| d.owed), Some(1000));
        assert!(deps.store.event_kinds().contains(&"booking.claim_decided".to_owned()));
    }
}
