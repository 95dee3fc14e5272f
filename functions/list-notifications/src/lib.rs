//! `GET /me/notifications` (auth): the caller's in-app notifications, newest first, paged
//! with a signed cursor bound to the caller.

use lambda_http::{Body, Request, Response};
use shared::cursor::{self, PageView};
use shared::domain::search::parse_limit;
use shared::http::{json, query_pairs};
use shared::identity::Caller;
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
    let params = query_pairs(&req);
    if let Some((k, _)) = params.iter().find(|(k, _)| k != "limit" && k != "cursor") {
        return Err(AppError::bad_request(
            "unknown_parameter",
            format!("unknown query parameter {k:?}; known: limit, cursor"),
        ));
    }
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let limit = parse_limit(get("limit"))?;
    let key = deps.cursor_keys.cursor_key().await?;
    let bound_to = format!("notifications|{}", caller.user_id);
    let start = get("cursor").map(|c| cursor::decode(&key, &bound_to, c)).transpose()?;
    let page = deps.store.notifications_of(&caller.user_id, limit, start).await?;
    json(200, &PageView::new(page.items, &key, &bound_to, page.last_key.as_ref()))
}
