//! `GET /bookings/{id}/condition-reports` (the booking's renter or owner, or an operator): the
//! parties' reports of the pickup and the return, each with `editable_until` (none while the
//! item is out, for the return's). Anyone else gets 404, as for the booking (decision 0042).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::ports::ReportStore;
use shared::AppError;

pub struct Deps<S> {
    pub store: S,
}

pub async fn handle<S>(req: Request, deps: &Deps<S>) -> Result<Response<Body>, AppError>
where
    S: ReportStore,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    json(200, &shared::reports::list(&deps.store, &id, &caller).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::condition::ReportRequest;
    use shared::testing::{confirmed_booking, MemoryStore};

    fn request(id: &str, sub: &str, groups: &str) -> Request {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/list-condition-reports.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = serde_json::json!(groups);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn parties_and_operators_read_them_and_nobody_else() {
        let store = MemoryStore::default();
        let b = confirmed_booking("2026-12-10", 3, 1000).unwrap();
        store.seed_booking(&b).await;
        let owner = Caller::from_claims(&[("sub".to_owned(), "owner".to_owned())].into_iter().collect()).unwrap();
        let report: ReportRequest = serde_json::from_value(serde_json::json!({"notes": "all there"})).unwrap();
        shared::reports::write(&store, &b.id, &owner, "pickup", report, b.pickup_opens_at()).await.unwrap();
        let deps = Deps { store };
        for (sub, groups) in [("renter", "[]"), ("owner", "[]"), ("ops-1", "[operators]")] {
            let resp = handle(request(b.id.as_str(), sub, groups), &deps).await.unwrap();
            let Body::Text(t) = resp.body() else { panic!("a JSON body") };
            let v: serde_json::Value = serde_json::from_str(t).unwrap();
            assert_eq!(
                (v["items"][0]["notes"].as_str(), v["items"][0]["stage"].as_str()),
                (Some("all there"), Some("pickup")),
                "{sub}"
            );
            let closes = v["items"][0]["editable_until"].as_str().unwrap();
            assert_eq!(
                closes,
                serde_json::json!(b.ends_at()).as_str().unwrap(),
                "before the pickup: the stay's end at the latest"
            );
        }
        assert_eq!(handle(request(b.id.as_str(), "stranger", "[renters]"), &deps).await.unwrap_err().status(), 404);
    }
}
