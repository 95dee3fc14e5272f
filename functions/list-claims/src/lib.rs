//! `GET /admin/claims?status=escalated` (operators): claims in one status (`open`,
//! `escalated` — the default, the operators' queue —, `accepted`, `decided`), newest first,
//! paged with a signed cursor. 403 for anyone else (decision 0043).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::claim::ClaimStatus;
use shared::domain::review::OPERATORS_GROUP;
use shared::error::FieldError;
use shared::identity::Caller;
use shared::paging::{Paging, QueryParams};
use shared::ports::{ClaimStore, CursorKeys};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: ClaimStore,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    if !caller.is_in_group(OPERATORS_GROUP) {
        return Err(AppError::Forbidden);
    }
    let params = QueryParams::only(&req, &["status", "limit", "cursor"])?;
    let status = match params.get("status") {
        None => ClaimStatus::Escalated,
        Some(raw) => ClaimStatus::parse(raw).ok_or_else(|| {
            AppError::Validation(vec![FieldError::new("status", "must be open, escalated, accepted or decided")])
        })?,
    };
    let paging = Paging::from_params(&deps.cursor_keys, &params, format!("claims|{}", status.as_str())).await?;
    let page = deps.store.claims_in(status, paging.limit, paging.start.clone()).await?;
    paging.respond(page)
}
