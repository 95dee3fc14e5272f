//! `PUT /bookings/{id}/condition-reports/{stage}` (the booking's renter or owner; `stage` is
//! `pickup` or `return`) with `{"notes", "checklist"?, "photos"?}` (photos: up to 20 of the
//! caller's evidence files the check accepted as images): writes the caller's report of that
//! handover, 201 the first time and 200 for an edit (its next version; the same contents again
//! are no edit: the report as it is). Open from the pickup's
//! opening (24 h before the start) or the pickup (the return's) until 24 h after that stage's
//! handover: else 409 `report_not_open` or `report_closed`. The other party is told. Anyone not
//! a party gets 404 (decision 0042).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::domain::condition::ReportRequest;
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{ClaimStore, ReportStore};
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ReportStore + ClaimStore,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let stage = path_param(&req, "stage", "report stage")?;
    let body = json_body::<ReportRequest>(&req)?;
    let (report, new) = shared::reports::write(&deps.store, &id, &caller, &stage, body, deps.clock.now()).await?;
    json(if new { 201 } else { 200 }, &report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::{confirmed_booking, FixedClock, MemoryStore};

    fn request(id: &str, stage: &str, sub: &str, body: serde_json::Value) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/write-condition-report.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["pathParameters"]["stage"] = serde_json::json!(stage);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["body"] = serde_json::json!(body.to_string());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn parties_write_then_edit_their_own_report_while_it_is_open() {
        let b = confirmed_booking("2026-12-10", 3, 1000).unwrap();
        let opens = b.pickup_opens_at();
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock(opens) };
        deps.store.seed_booking(&b).await;
        let notes = |n: &str| serde_json::json!({ "notes": n, "checklist": [{"item": "lens", "ok": true}] });
        let first = handle(request(b.id.as_str(), "pickup", "renter", notes("clean")), &deps).await.unwrap();
        assert_eq!(first.status(), 201);
        let edit = handle(request(b.id.as_str(), "pickup", "renter", notes("a scratch")), &deps).await.unwrap();
        assert_eq!(edit.status(), 200);
        let Body::Text(t) = edit.body() else { panic!("a JSON body") };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(
            (v["version"].as_u64(), v["notes"].as_str(), v["author"].as_str()),
            (Some(2), Some("a scratch"), Some("renter"))
        );
        assert_eq!(handle(request(b.id.as_str(), "pickup", "owner", notes("ok")), &deps).await.unwrap().status(), 201);
        assert_eq!(deps.store.reports.lock().unwrap().len(), 2, "one per party and stage");
        let again = handle(request(b.id.as_str(), "pickup", "owner", notes("ok")), &deps).await.unwrap();
        assert_eq!(again.status(), 200, "a retried PUT");
        assert_eq!(deps.store.reports.lock().unwrap()[1].version, 1, "is no new version");
        let kinds = deps.store.event_kinds();
        assert_eq!(kinds.iter().filter(|k| *k == "booking.condition_reported").count(), 3, "each version announced");

        let err = handle(request(b.id.as_str(), "pickup", "stranger", notes("x")), &deps).await.unwrap_err();
        assert_eq!(err.status(), 404);
        let err = handle(request(b.id.as_str(), "during", "renter", notes("x")), &deps).await.unwrap_err();
        assert_eq!(err.status(), 404, "no such stage");
        let err = handle(request(b.id.as_str(), "return", "renter", notes("x")), &deps).await.unwrap_err();
        assert_eq!(err.code(), "report_not_open", "before the pickup");
        let err = handle(request(b.id.as_str(), "pickup", "renter", serde_json::json!({"notes": ""})), &deps)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let early = Deps { store: deps.store, clock: FixedClock(opens - chrono::Duration::minutes(1)) };
        let err = handle(request(b.id.as_str(), "pickup", "owner", notes("x")), &early).await.unwrap_err();
        assert_eq!(err.code(), "report_not_open");
    }
}
