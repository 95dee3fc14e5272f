//! `POST /me/notifications/{id}/read` (auth): marks one of the caller's notifications read
//! (again is a no-op that keeps the first read time). Others' ids are 404.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::notification;
use shared::domain::Clock;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::ports::NotificationStore;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S: NotificationStore, C: Clock>(
    req: Request,
    deps: &Deps<S, C>,
) -> Result<Response<Body>, AppError> {
    let caller = Caller::from_request(&req)?;
    let id = notification::parse_id(&path_param(&req, "id", "notification")?)?;
    let n = deps.store.mark_read(&caller.user_id, &id, deps.clock.now()).await?;
    json(200, &n)
}
