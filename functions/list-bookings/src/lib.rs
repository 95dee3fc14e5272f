//! `GET /bookings?role=renter|owner&status=` (auth): the caller's bookings as renter
//! (default) or as owner, newest first, optionally of one status; paged with a signed cursor
//! bound to the caller, role and status.

use lambda_http::{Body, Request, Response};
use shared::cursor::{self, PageView};
use shared::domain::booking::{BookingStatus, Party};
use shared::domain::search::parse_limit;
use shared::http::{json, query_pairs};
use shared::identity::Caller;
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
    let params = query_pairs(&req);
    if let Some((k, _)) = params.iter().find(|(k, _)| !["role", "status", "limit", "cursor"].contains(&k.as_str())) {
        return Err(AppError::bad_request(
            "unknown_parameter",
            format!("unknown query parameter {k:?}; known: role, status, limit, cursor"),
        ));
    }
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let party = match get("role").unwrap_or("renter") {
        "renter" => Party::Renter,
        "owner" => Party::Owner,
        _ => return Err(AppError::bad_request("invalid_parameter", "role: must be renter or owner")),
    };
    let status = get("status")
        .map(|s| {
            BookingStatus::parse(s)
                .ok_or_else(|| AppError::bad_request("invalid_parameter", "status: not a booking status"))
        })
        .transpose()?;
    let limit = parse_limit(get("limit"))?;
    let key = deps.cursor_keys.cursor_key().await?;
    let bound_to = format!("bookings|{}|{party:?}|{}", caller.user_id, status.map_or("", BookingStatus::as_str));
    let start = get("cursor").map(|c| cursor::decode(&key, &bound_to, c)).transpose()?;
    let page = deps.store.bookings_of(party, &caller.user_id, status, limit, start).await?;
    tracing::info!(items = page.items.len(), items_read = page.items_read, "bookings page");
    json(200, &PageView::new(page.items, &key, &bound_to, page.last_key.as_ref()))
}
