//! `POST /bookings/{id}/accept` (the listing's owner): `requested` -> `pending_payment`; the
//! renter then has 30 minutes to pay.
//! Anyone who is not a party to the booking gets 404; a move the state machine does not
//! allow is 409 with a code naming the current state.

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{BookingId, Party, Transition};
use shared::http::{json, path_param};
use shared::domain::Clock;
use shared::identity::Caller;
use shared::ports::{BookingReader, BookingWriter, EventPublisher};
use shared::AppError;

pub struct Deps<S, P, C> {
    pub store: S,
    pub events: P,
    pub clock: C,
}

pub async fn handle<S, P, C>(req: Request, deps: &Deps<S, P, C>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + BookingWriter,
    P: EventPublisher,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;

    let (_, party) = shared::bookings::visible_booking(&deps.store, &id, &caller.user_id).await?;
    if party != Party::Owner {
        return Err(AppError::Forbidden);
    }
    let booking = shared::bookings::move_booking(&deps.store, &deps.events, &id, Transition::Accept, deps.clock.now(), Some(&caller.user_id), |_| {}).await?;
    json(200, &booking)
}
