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
