//! `POST /bookings/{id}/evidence` (the booking's renter or owner, after the return) with
//! `{content_type, size_bytes}`: 201 with `evidence_id` and a presigned PUT (15 minutes) into
//! the private evidence bucket that only accepts exactly that type and length. The check reads
//! what arrives: accepted by its bytes, or refused with a reason (`GET /bookings/{id}/claim`
//! shows which). 409 `evidence_not_open` before the pickup opens or after the settlement,
//! `too_many_files` past 60 per party; anyone else gets 404 (decision 0043).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::booking::BookingId;
use shared::domain::evidence::file::{EvidenceUploadRequest, EvidenceUploadSpec};
use shared::domain::Clock;
use shared::http::{json, json_body, path_param};
use shared::identity::Caller;
use shared::ports::{ClaimStore, EvidenceStore, UploadUrls};
use shared::AppError;

pub struct Deps<S, U, C> {
    pub store: S,
    pub uploads: U,
    pub clock: C,
}

pub async fn handle<S, U, C>(req: Request, deps: &Deps<S, U, C>) -> Result<Response<Body>, AppError>
where
    S: ClaimStore + EvidenceStore,
    U: UploadUrls,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let id = BookingId::parse(&path_param(&req, "id", "booking")?)?;
    let spec = EvidenceUploadSpec::parse(&json_body::<EvidenceUploadRequest>(&req)?)?;
    let now = deps.clock.now();
    let (file, upload) = shared::claims::request_upload(&deps.store, &deps.uploads, &id, &caller, spec, now).await?;
    json(
        201,
        &serde_json::json!({
            "evidence_id": file.id, "status": file.status,
            "upload": { "url": upload.url, "method": upload.method, "headers": upload.headers },
            "expires_at": upload.expires_at,
        }),
    )
}
