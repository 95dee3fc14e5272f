//! `GET /me/threads` (auth): the caller's threads (bookings' and inquiries'), most recently
//! active first, each with its last message's start and the caller's unread count, paged with
//! a signed cursor
//! bound to the caller (decision 0037).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::identity::Caller;
use shared::paging::{Paging, QueryParams};
use shared::ports::{CursorKeys, MessageStore};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: MessageStore,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    let params = QueryParams::only(&req, &["limit", "cursor"])?;
    let paging = Paging::from_params(&deps.cursor_keys, &params, format!("threads|{}", caller.user_id)).await?;
    let page = deps.store.threads_of(&caller.user_id, paging.limit, paging.start.clone()).await?;
    paging.respond(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cursor::CursorKey;
    use shared::domain::Clock;
    use shared::testing::{confirmed_booking, FixedClock, MemoryStore};

    fn request(sub: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/list-threads.json")).unwrap();
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn newest_activity_first_with_unread_counts() {
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"test-key-0123456789") };
        let (quiet, busy) =
            (confirmed_booking("2026-12-01", 3, 1000).unwrap(), confirmed_booking("2026-12-05", 2, 1000).unwrap());
        deps.store.seed_booking(&quiet).await;
        deps.store.seed_booking(&busy).await;
        let now = FixedClock::default().now();
        shared::messages::post(&deps.store, &quiet.id, &quiet.renter_id, "first", now).await.unwrap();
        for n in 1..=2 {
            let at = now + chrono::Duration::minutes(n);
            shared::messages::post(&deps.store, &busy.id, &busy.renter_id, "later", at).await.unwrap();
        }
        let resp = handle(request("owner"), &deps).await.unwrap();
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!((items[0]["booking_id"].as_str(), items[0]["unread"].as_u64()), (Some(busy.id.as_str()), Some(2)));
        assert_eq!((items[1]["booking_id"].as_str(), items[1]["unread"].as_u64()), (Some(quiet.id.as_str()), Some(1)));
        assert_eq!(
            (items[1]["other_party_id"].as_str(), items[1]["last_message_preview"].as_str()),
            (Some("renter"), Some("first"))
        );
        let resp = handle(request("renter"), &deps).await.unwrap();
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(v["items"][0]["unread"], 0, "one's own messages are not unread");
    }
}
