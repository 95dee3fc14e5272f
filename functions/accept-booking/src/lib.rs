//! `POST /bookings/{id}/accept` (the listing's owner): `requested` -> `pending_payment`; the
//! renter then has 30 minutes to pay.
//! Anyone who is not a party to the booking gets 404; a move the state machine does not
//! allow is 409 with a code naming the current state.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{BookingId, Transition};
use shared::domain::Clock;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::ports::{BookingReader, BookingWriter};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + BookingWriter,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let booking =
        shared::bookings::owner_move(&deps.store, &caller.user_id, &id, Transition::Accept, deps.clock.now()).await?;
    json(200, &booking)
}
