//! `GET /bookings/{id}` (auth): the booking, for its renter and its listing's owner only;
//! 404 to anyone else, as for an id that does not exist.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::ports::BookingReader;
use shared::AppError;

pub struct Deps<S> {
    pub store: S,
}

pub async fn handle<S: BookingReader>(req: Request, deps: &Deps<S>) -> Result<Response<Body>, AppError> {
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let (booking, _) = shared::bookings::visible_booking(&deps.store, &id, &caller.user_id).await?;
    json(200, &booking)
}
