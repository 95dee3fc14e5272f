//! `POST /listings/{id}/blocked-dates` (owner): blocks `[start_date, end_date)` so nobody can
//! book it. Days held by a booking cannot be blocked (409 `dates_unavailable`, nothing
//! blocked); blocking a blocked day again is a no-op. Non-owners get 404.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::RangeRequest;
use shared::domain::listing::ListingId;
use shared::domain::Clock;
use shared::http::{empty, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{Calendar, ListingReader};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ListingReader + Calendar,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = ListingId::parse(&path_param(&req, "id", "listing")?)?;
    let body = json_body::<RangeRequest>(&req)?;
    let (listing, range) =
        shared::bookings::owner_range(&deps.store, &caller, &id, &body, deps.clock.now().date_naive()).await?;
    deps.store.block_days(&listing.id, &range).await?;
    tracing::info!(listing_id = %listing.id, days = range.days(), "calendar changed: block_days");
    empty(204)
}
