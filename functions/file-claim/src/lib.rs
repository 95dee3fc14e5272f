//! `POST /bookings/{id}/claims` (the booking's owner) with `{amount, description, evidence}`:
//! claims `amount` (minor units, at most the deposit) from the deposit hold for damage, citing
//! evidence files the owner uploaded and the check accepted. Open from the return until the
//! claim window closes (`ClaimWindowHours`): else 409 `claim_not_open` or `claim_window_closed`;
//! one claim per booking (409 `claim_exists`). 201 with the claim and `Location`. The hold is
//! kept until the claim is settled; the renter is told to answer within 48 hours (decision 0043).

mod wiring;
pub use wiring::run;

use chrono::Duration;
use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::domain::claim::ClaimRequest;
use shared::domain::Clock;
use shared::http::{json, json_body, path_param, with_header};
use shared::identity::Caller;
use shared::ports::ClaimStore;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// How long after the return the owner may claim.
    pub claim_window: Duration,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ClaimStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let body = json_body::<ClaimRequest>(&req)?;
    let now = deps.clock.now();
    let claim = shared::claims::file(&deps.store, &id, &caller, body, deps.claim_window, now).await?;
    with_header(json(201, &claim)?, "location", &format!("/bookings/{id}/claim"))
}
