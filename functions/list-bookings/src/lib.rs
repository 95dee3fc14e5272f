//! `GET /bookings?role=renter|owner&status=` (auth): the caller's bookings as renter
//! (default) or as owner, newest first, optionally of one status; paged with a signed cursor
//! bound to the caller, role and status.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::{BookingStatus, Party};
use shared::identity::Caller;
use shared::paging::{Paging, QueryParams};
use shared::ports::{BookingLists, CursorKeys};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: BookingLists,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    let params = QueryParams::only(&req, &["role", "status", "limit", "cursor"])?;
    let party = match params.get("role").unwrap_or("renter") {
        "renter" => Party::Renter,
        "owner" => Party::Owner,
        _ => return Err(AppError::bad_request("invalid_parameter", "role: must be renter or owner")),
    };
    let status = params
        .get("status")
        .map(|s| {
            BookingStatus::parse(s)
                .ok_or_else(|| AppError::bad_request("invalid_parameter", "status: not a booking status"))
        })
        .transpose()?;
    let bound_to = format!("bookings|{}|{party:?}|{}", caller.user_id, status.map_or("", BookingStatus::as_str));
    let paging = Paging::from_params(&deps.cursor_keys, &params, bound_to).await?;
    let page = deps.store.bookings_of(party, &caller.user_id, status, paging.limit, paging.start.clone()).await?;
    tracing::info!(items = page.items.len(), items_read = page.items_read, "bookings page");
    paging.respond(page)
}
