//! `GET /bookings/{id}/messages` (the booking's renter or owner): its thread, newest first,
//! paged with a signed cursor bound to the booking and the caller, and the read receipt:
//! `other_party_read_up_to`, the newest message the other party has marked read. Operators
//! read it too once the booking's claim was contested (decision 0043; their receipt is the
//! owner's). Anyone else gets 404 (decision 0037).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::domain::message::ThreadId;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::paging::QueryParams;
use shared::ports::{BookingReader, ClaimStore, CursorKeys, MessageStore};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: BookingReader + MessageStore + ClaimStore,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let params = QueryParams::only(&req, &["limit", "cursor"])?;
    let booking = deps.store.get_booking(&id).await?.ok_or(AppError::NotFound("booking"))?;
    let other = match booking.party(&caller.user_id) {
        Some(party) => booking.other_party(party),
        None if shared::claims::operator_may_read_thread(&deps.store, &id, &caller).await? => &booking.owner_id,
        None => return Err(AppError::NotFound("booking")),
    };
    let thread = ThreadId::Booking(id.clone());
    json(
        200,
        &shared::messages::page_of(&deps.store, &deps.cursor_keys, &params, &thread, &caller.user_id, other).await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cursor::CursorKey;
    use shared::testing::{confirmed_booking, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, query: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/list-messages.json")).unwrap();
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
    async fn pages_the_thread_newest_first_for_its_parties_only() {
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"test-key-0123456789") };
        let b = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        deps.store.seed_booking(&b).await;
        let clock = FixedClock::default();
        for n in 0..3 {
            let at = shared::domain::Clock::now(&clock) + chrono::Duration::seconds(n);
            shared::messages::post(&deps.store, &b.id, &b.renter_id, &format!("m{n}"), at).await.unwrap();
        }
        let first = page(&deps, b.id.as_str(), "owner", "limit=2").await.unwrap();
        let texts = |v: &serde_json::Value| {
            v["items"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(texts(&first), ["m2", "m1"]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let rest = page(&deps, b.id.as_str(), "owner", &format!("limit=2&cursor={cursor}")).await.unwrap();
        assert_eq!((texts(&rest), rest["next_cursor"].is_null()), (vec!["m0".to_owned()], true));
        assert!(first["other_party_read_up_to"].is_null(), "the renter has read nothing yet");
        let newest = first["items"][0]["id"].as_str().unwrap().to_owned();
        let up_to = shared::domain::message::MessageId::parse(&newest).unwrap();
        assert_eq!(
            shared::messages::mark_read(&deps.store, &ThreadId::Booking(b.id.clone()), &b.owner_id, &newest)
                .await
                .unwrap(),
            0
        );
        let renters_view = page(&deps, b.id.as_str(), "renter", "").await.unwrap();
        assert_eq!(renters_view["other_party_read_up_to"].as_str(), Some(up_to.as_str()), "the owner's read receipt");
        let err = page(&deps, b.id.as_str(), "renter", &format!("cursor={cursor}")).await.unwrap_err();
        assert_eq!(err.status(), 400, "a cursor is the caller's own");
        assert_eq!(page(&deps, b.id.as_str(), "stranger", "").await.unwrap_err().status(), 404);
    }

    #[tokio::test]
    async fn operators_read_the_thread_once_its_claim_is_contested() {
        use shared::domain::claim::{DamageClaim, NewClaim, ParsedAnswer};
        use shared::domain::deposit::Deposit;
        use shared::ports::ClaimStore;
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"test-key-0123456789") };
        let now = shared::domain::Clock::now(&FixedClock::default());
        let b = shared::testing::returned_booking("2026-12-01", now).unwrap();
        deps.store.seed_booking(&b).await;
        shared::messages::post(&deps.store, &b.id, &b.renter_id, "It was scratched already", now).await.unwrap();
        let operator = |groups: &str| {
            let mut v: serde_json::Value =
                serde_json::from_str(include_str!("../../../events/list-messages.json")).unwrap();
            v["pathParameters"]["id"] = serde_json::json!(b.id.as_str());
            v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!("op-1");
            v["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = serde_json::json!(groups);
            lambda_http::request::from_str(&v.to_string()).unwrap()
        };
        assert_eq!(handle(operator("operators"), &deps).await.unwrap_err().status(), 404, "no claim: no reading");

        let deposit = Deposit::schedule(&b, "cus_1".into(), None, 24, now);
        let new = NewClaim { amount: 100, description: "Dent".into(), evidence: vec![] };
        let claim = DamageClaim::file(&b, &deposit, new, now);
        let event = shared::bookings::event("booking.claim_filed", &b, None, now);
        deps.store.save_claim(&claim, None, None, &event).await.unwrap();
        assert_eq!(handle(operator("operators"), &deps).await.unwrap_err().status(), 404, "open: not contested");
        let contest = ParsedAnswer::Contest { statement: "no".into(), evidence: vec![] };
        let escalated = claim.answered(contest, true, now).unwrap();
        deps.store.save_claim(&escalated, Some(claim.version), None, &event).await.unwrap();
        let resp = handle(operator("operators"), &deps).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(handle(operator("support"), &deps).await.unwrap_err().status(), 404, "operators only");
    }
}
