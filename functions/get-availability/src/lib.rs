//! `GET /listings/{id}/availability?from=&to=` (public): the listing's unavailable days in
//! `[from, to)` — held by bookings or blocked by the owner, without saying which — merged
//! into sorted ranges. Defaults: from today, 90 days; the window is at most 366 days.

mod wiring;
pub use wiring::run;

use chrono::{Duration, NaiveDate};
use lambda_http::{Body, Request, Response};
use shared::domain::booking::{merge_days, DateRange};
use shared::domain::Clock;
use shared::http::{json, path_param, query_pairs};
use shared::ports::{Calendar, ListingReader};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub const MAX_WINDOW_DAYS: i64 = 366;

fn date(params: &[(String, String)], name: &str) -> Result<Option<NaiveDate>, AppError> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                AppError::bad_request("invalid_parameter", format!("{name}: must be a date as YYYY-MM-DD"))
            })
        })
        .transpose()
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ListingReader + Calendar,
    C: Clock,
{
    let listing = shared::bookings::public_listing(&deps.store, &path_param(&req, "id", "listing")?).await?;
    let params = query_pairs(&req);
    if let Some((k, _)) = params.iter().find(|(k, _)| k != "from" && k != "to") {
        return Err(AppError::bad_request(
            "unknown_parameter",
            format!("unknown query parameter {k:?}; known: from, to"),
        ));
    }
    let from = date(&params, "from")?.unwrap_or_else(|| deps.clock.now().date_naive());
    let to = date(&params, "to")?.unwrap_or(from + Duration::days(90));
    let window = DateRange::new(from, to)
        .map_err(|e| AppError::bad_request("invalid_parameter", format!("to: {}", e.message)))?;
    if window.days() > MAX_WINDOW_DAYS {
        return Err(AppError::bad_request(
            "invalid_parameter",
            format!("the window is at most {MAX_WINDOW_DAYS} days"),
        ));
    }
    let days = deps.store.unavailable_days(&listing.id, &window).await?;
    json(200, &serde_json::json!({ "listing_id": listing.id, "from": from, "to": to, "unavailable": merge_days(days) }))
}
