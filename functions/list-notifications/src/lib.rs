//! `GET /me/notifications` (auth): the caller's in-app notifications, newest first, paged
//! with a signed cursor bound to the caller.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::identity::Caller;
use shared::paging::{Paging, QueryParams};
use shared::ports::{CursorKeys, NotificationStore};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: NotificationStore,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    let params = QueryParams::only(&req, &["limit", "cursor"])?;
    let paging = Paging::from_params(&deps.cursor_keys, &params, format!("notifications|{}", caller.user_id)).await?;
    let page = deps.store.notifications_of(&caller.user_id, paging.limit, paging.start.clone()).await?;
    paging.respond(page)
}
