//! `GET /bookings/{id}/claim` (the booking's renter or owner, or an operator): the booking's
//! claim (`null` before one is filed) and both parties' evidence files, each accepted file
//! with a presigned download URL valid for five minutes, each refused one with its reason.
//! Anyone else gets 404, as for the booking (decision 0043).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::domain::Clock;
use shared::http::{json, path_param};
use shared::identity::Caller;
use shared::ports::{ClaimStore, EvidenceObjects};
use shared::AppError;

pub struct Deps<S, O, C> {
    pub store: S,
    pub objects: O,
    pub clock: C,
}

pub async fn handle<S, O, C>(req: Request, deps: &Deps<S, O, C>) -> Result<Response<Body>, AppError>
where
    S: ClaimStore,
    O: EvidenceObjects,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let now = deps.clock.now();
    json(200, &shared::claims::view(&deps.store, &deps.objects, &id, &caller, false, now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::evidence::file::{Checked, EvidenceFile, EvidenceUploadSpec};
    use shared::domain::evidence::EvidenceType;
    use shared::ports::EvidenceStore;
    use shared::testing::{claimable, FakeEvidence, FixedClock, MemoryStore};

    fn request(id: &str, sub: &str, groups: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/get-claim.json")).unwrap();
        v["pathParameters"]["id"] = serde_json::json!(id);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = serde_json::json!(groups);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn parties_and_operators_read_accepted_files_through_five_minute_links() {
        let deps =
            Deps { store: MemoryStore::default(), objects: FakeEvidence::default(), clock: FixedClock::default() };
        let now = deps.clock.now();
        let (b, _) = claimable(&deps.store, now).await.unwrap();
        let spec = EvidenceUploadSpec { content_type: "application/pdf", size_bytes: 9 };
        let file =
            EvidenceFile::pending(b.id.clone(), shared::domain::booking::Party::Owner, b.owner_id.clone(), spec, now);
        let pending =
            EvidenceFile::pending(b.id.clone(), shared::domain::booking::Party::Renter, b.renter_id.clone(), spec, now);
        deps.store.add_evidence(&file).await.unwrap();
        deps.store.add_evidence(&pending).await.unwrap();
        let checked = Checked {
            kind: EvidenceType::Pdf,
            sha256: "ab".into(),
            size_bytes: 9,
            received_at: now,
            captured_at: None,
            renditions: vec![],
        };
        deps.store.finish_evidence(&file.checked(Ok(checked))).await.unwrap();
        let read = |sub: &'static str, groups: &'static str| {
            let deps = &deps;
            let id = b.id.to_string();
            async move {
                let resp = handle(request(&id, sub, groups), deps).await?;
                let Body::Text(t) = resp.body() else { panic!("a JSON body") };
                Ok::<serde_json::Value, AppError>(serde_json::from_str(t).unwrap())
            }
        };
        let view = read("renter", "").await.unwrap();
        assert!(view["claim"].is_null(), "no claim yet");
        let files = view["evidence"].as_array().unwrap();
        let url = files.iter().find(|f| f["id"] == file.id.as_str()).unwrap()["download"]["url"].as_str().unwrap();
        assert!(url.ends_with("X-Amz-Expires=300"), "{url}");
        assert!(
            files.iter().find(|f| f["id"] == pending.id.as_str()).unwrap().get("download").is_none(),
            "pending: no link"
        );
        assert!(read("op", "operators").await.is_ok());
        assert_eq!(read("stranger", "").await.unwrap_err().status(), 404);
    }
}
