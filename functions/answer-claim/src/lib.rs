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
