//! `POST /bookings/{id}/cancel` (renter or owner) with `{"reason"}`: -> `cancelled`, releasing
//! the days in the same transaction. Refunds for confirmed bookings follow with payments.
//! Anyone who is not a party to the booking gets 404; a move the state machine does not
//! allow is 409 with a code naming the current state.

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{BookingId, CancelRequest, Transition};
use shared::http::{json, json_body, path_param};
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
    let body = json_body::<CancelRequest>(&req)?;
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::field("reason", "must be 1-500 characters"));
    }
    let (_, party) = shared::bookings::visible_booking(&deps.store, &id, &caller.user_id).await?;

    let booking = shared::bookings::move_booking(&deps.store, &deps.events, &id, Transition::Cancel, deps.clock.now(), Some(&caller.user_id), |b| {
        b.cancelled_by = Some(party);
        b.cancel_reason = Some(reason.clone());
    }).await?;
    json(200, &booking)
}
