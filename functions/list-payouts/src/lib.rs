//! `GET /me/payouts` (auth): the payouts Stripe made (or failed to make) from the caller's
//! connected account to their bank, as its `payout.paid` / `payout.failed` events reported
//! them, newest arrival first, paged with a signed cursor bound to the caller.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::identity::Caller;
use shared::paging::{Paging, QueryParams};
use shared::ports::{CursorKeys, OwnerPayouts};
use shared::views::OwnerPayoutView;
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: OwnerPayouts,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    let params = QueryParams::only(&req, &["limit", "cursor"])?;
    let paging = Paging::from_params(&deps.cursor_keys, &params, format!("payouts|{}", caller.user_id)).await?;
    let page = deps.store.owner_payouts(&caller.user_id, paging.limit, paging.start.clone()).await?;
    paging.respond(page.map_items(OwnerPayoutView::from))
}
