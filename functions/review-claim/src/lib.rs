//! `GET /admin/claims/{id}` (operators: Cognito group `operators`): the whole case of a claim
//! for a decision: the claim, the booking, its deposit, both parties' condition reports and
//! every evidence file, accepted ones with a download URL valid for five minutes. 403 for
//! anyone else (decision 0043).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::claim::ClaimId;
use shared::domain::review::OPERATORS_GROUP;
use shared::domain::Clock;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::ports::{ClaimStore, EvidenceObjects};
use shared::AppError;

pub struct Deps<S, O, C> {
    pub store: S,
    pub objects: O,
    pub clock: C,
}

pub async fn handle<S, O, C>(req: Request, deps: &Deps<S, O, C>) -> Result<Response<Body>, AppError>
where
    S: ClaimStore,
    O: EvidenceObjects,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    if !caller.is_in_group(OPERATORS_GROUP) {
        return Err(AppError::Forbidden);
    }
    let id = ClaimId::parse(&path_param(&req, "id", "claim")?)?;
    let booking = deps.store.claim_booking(&id).await?.ok_or(AppError::NotFound("claim"))?;
    let now = deps.clock.now();
    json(200, &shared::claims::view(&deps.store, &deps.objects, &booking, &caller, true, now).await?)
}
