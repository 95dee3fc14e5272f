//! `GET /bookings/{id}/claim` (the booking's renter or owner, or an operator): the booking's
//! claim (`null` before one is filed) and both parties' evidence files, each accepted file
//! with a presigned download URL valid for five minutes, each refused one with its reason.
//! Anyone else gets 404, as for the booking (decision 0043).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
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
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let now = deps.clock.now();
    json(200, &shared::claims::view(&deps.store, &deps.objects, &id, &caller, false, now).await?)
}
