//! `GET /inquiries/{id}/messages` (the inquiry's renter or owner): the inquiry (`inquiry`, with
//! `booking_id` once a booking adopted it) and its thread, newest first, paged with a signed
//! cursor bound to the thread and the caller, with the other party's read receipt
//! (`other_party_read_up_to`). Anyone else gets 404 (decision 0041).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::inquiry::InquiryId;
use shared::domain::message::ThreadId;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::paging::QueryParams;
use shared::ports::{CursorKeys, InquiryStore, MessageStore};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: InquiryStore + MessageStore,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    let id = InquiryId::parse(&path_param(&req, "id", "inquiry")?)?;
    let params = QueryParams::only(&req, &["limit", "cursor"])?;
    let (inquiry, party) = shared::messages::visible_inquiry(&deps.store, &id, &caller.user_id).await?;
    let thread = ThreadId::Inquiry(id);
    let other = inquiry.other(party);
    let mut body =
        shared::messages::page_of(&deps.store, &deps.cursor_keys, &params, &thread, &caller.user_id, other).await?;
    body["inquiry"] = serde_json::to_value(&inquiry).map_err(AppError::internal)?;
    json(200, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cursor::CursorKey;
    use shared::domain::Clock;
    use shared::testing::{inquiry_of, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, query: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/list-inquiry-messages.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["rawQueryString"] = serde_json::json!(query);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    async fn page(
        deps: &Deps<MemoryStore, CursorKey>,
        id: &str,
        sub: &str,
        query: &str,
    ) -> Result<serde_json::Value, AppError> {
        let resp = handle(request(id, sub, query), deps).await?;
        let Body::Text(t) = resp.body() else { panic!("a JSON body") };
        Ok(serde_json::from_str(t).unwrap())
    }

    #[tokio::test]
    async fn its_parties_page_it_with_the_inquiry_and_receipts() {
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"test-key-0123456789") };
        let inquiry = inquiry_of(&deps.store, "renter", "owner").await.unwrap();
        let later = FixedClock::default().now() + chrono::Duration::minutes(1);
        shared::messages::post_in_inquiry(&deps.store, &inquiry.id, &inquiry.owner_id, "yes", later).await.unwrap();
        let first = page(&deps, inquiry.id.as_str(), "renter", "limit=1").await.unwrap();
        assert_eq!(
            (first["items"][0]["text"].as_str(), first["inquiry"]["id"].as_str()),
            (Some("yes"), Some(inquiry.id.as_str()))
        );
        let cursor = first["next_cursor"].as_str().unwrap();
        let rest = page(&deps, inquiry.id.as_str(), "renter", &format!("cursor={cursor}")).await.unwrap();
        assert_eq!(rest["items"][0]["text"], "is it free?");
        let newest = first["items"][0]["id"].as_str().unwrap();
        let thread = ThreadId::Inquiry(inquiry.id.clone());
        shared::messages::mark_read(&deps.store, &thread, &inquiry.renter_id, newest).await.unwrap();
        let owners = page(&deps, inquiry.id.as_str(), "owner", "").await.unwrap();
        assert_eq!(owners["other_party_read_up_to"].as_str(), Some(newest), "the renter's receipt");
        let err = page(&deps, inquiry.id.as_str(), "owner", &format!("cursor={cursor}")).await.unwrap_err();
        assert_eq!(err.status(), 400, "a cursor is the caller's own");
        assert_eq!(page(&deps, inquiry.id.as_str(), "stranger", "").await.unwrap_err().status(), 404);
    }
}
