//! `GET /bookings/{id}/condition-reports` (the booking's renter or owner, or an operator): the
//! parties' reports of the pickup and the return, each with `editable_until` (none while the
//! item is out, for the return's) and its photos (`photo_files`, each with a download link
//! valid for five minutes). Anyone else gets 404, as for the booking (decision 0042).

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
    json(200, &shared::reports::list(&deps.store, &deps.objects, &id, &caller, now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::condition::ReportRequest;
    use shared::domain::evidence::file::{Checked, EvidenceFile, EvidenceUploadSpec, Rendition};
    use shared::domain::evidence::EvidenceType;
    use shared::ports::EvidenceStore;
    use shared::testing::{confirmed_booking, FakeEvidence, FixedClock, MemoryStore};

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
        // A photo the owner uploaded and the check accepted, and a PDF (no photo).
        let at = b.pickup_opens_at();
        let party = shared::domain::booking::Party::Owner;
        let file = |content_type| {
            EvidenceFile::pending(
                b.id.clone(),
                party,
                b.owner_id.clone(),
                EvidenceUploadSpec { content_type, size_bytes: 9 },
                at,
            )
        };
        let (photo, pdf) = (file("image/jpeg"), file("application/pdf"));
        for (f, kind) in [(&photo, EvidenceType::Jpeg), (&pdf, EvidenceType::Pdf)] {
            store.add_evidence(f).await.unwrap();
            // The pipeline rendered the photo (a PDF gets no renditions).
            let renditions = match kind {
                EvidenceType::Jpeg => vec![Rendition { name: "thumb".into(), width: 320, height: 240 }],
                _ => vec![],
            };
            let checked =
                Checked { kind, sha256: "ab".into(), size_bytes: 9, received_at: at, captured_at: None, renditions };
            store.finish_evidence(&f.checked(Ok(checked))).await.unwrap();
        }
        let with = |photos: &[&EvidenceFile]| -> ReportRequest {
            let ids: Vec<String> = photos.iter().map(|f| f.id.to_string()).collect();
            serde_json::from_value(serde_json::json!({"notes": "all there", "photos": ids})).unwrap()
        };
        let err = shared::reports::write(&store, &b.id, &owner, "pickup", with(&[&pdf]), at).await.unwrap_err();
        assert_eq!(err.code(), "validation_failed", "a PDF is no photo");
        shared::reports::write(&store, &b.id, &owner, "pickup", with(&[&photo]), at).await.unwrap();
        let deps = Deps { store, objects: FakeEvidence::default(), clock: FixedClock(at) };
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
            let link = v["items"][0]["photo_files"][0]["download"]["url"].as_str().unwrap();
            assert!(link.contains(photo.id.as_str()) && link.ends_with("X-Amz-Expires=300"), "{link}");
            let thumb = v["items"][0]["photo_files"][0]["renditions"][0]["url"].as_str().unwrap();
            assert!(thumb.contains(&format!("renditions/{}/{}/thumb.webp", b.id, photo.id)), "{thumb}");
        }
        assert_eq!(handle(request(b.id.as_str(), "stranger", "[renters]"), &deps).await.unwrap_err().status(), 404);
    }
}
