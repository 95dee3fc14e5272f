//! Damage claims and their evidence (decision 0043): parties upload evidence files, the check
//! keeps or refuses each; the owner files a claim, the renter answers, the deadline accepts,
//! an operator decides. Every step is one transaction of the claim, the deposit when what it
//! owes changes, and the event (audit trail and both parties' notifications).

use chrono::{DateTime, Duration, Utc};

use crate::domain::booking::{BookingId, BookingStatus, Party};
use crate::domain::claim::{
    check_claimable, AnswerRequest, ClaimId, ClaimRequest, ClaimStatus, DamageClaim, DecisionRequest, ParsedAnswer,
};
use crate::domain::deposit::{Damage, Deposit};
use crate::domain::events::{kinds, DomainEvent};
use crate::domain::evidence::exif::capture_time;
use crate::domain::evidence::file::{
    check_cited, rendition_key, sha256_hex, Checked, EvidenceFile, EvidenceStatus, EvidenceUploadSpec, Rendition,
    DOWNLOAD_URL_SECS, LAST_CHECK_ATTEMPT, MAX_FILES_PER_PARTY, UPLOAD_URL_SECS,
};
use crate::domain::evidence::{EvidenceType, Refusal, MAX_EVIDENCE_BYTES};
use crate::domain::review::OPERATORS_GROUP;
use crate::error::AppError;
use crate::identity::Caller;
use crate::ports::{
    ClaimCase, ClaimStore, EvidenceObjects, EvidenceStore, PresignedUpload, Recorded, RenderPhoto, UploadUrls,
};

/// Tries of a claim's read-and-write before giving up on a busy deposit.
const TRIES: usize = 3;

/// `caller`, a party of booking `id` after its return, asks to upload an evidence file: the
/// pending file and its presigned PUT. 404 for anyone else; 409 `evidence_not_open` before the
/// return or once the booking is settled, `too_many_files` past 60 per party.
pub async fn request_upload<S, U>(
    store: &S,
    uploads: &U,
    id: &BookingId,
    caller: &Caller,
    spec: EvidenceUploadSpec,
    now: DateTime<Utc>,
) -> Result<(EvidenceFile, PresignedUpload), AppError>
where
    S: ClaimStore + EvidenceStore,
    U: UploadUrls,
{
    let case = store.claim_case(id).await?.ok_or(AppError::NotFound("booking"))?;
    let party = case.booking.party(&caller.user_id).ok_or(AppError::NotFound("booking"))?;
    // From the pickup's opening (reports' photos) until the settlement (claims, answers).
    let b = &case.booking;
    let settled = case.deposit.as_ref().is_some_and(|d| d.settlement.is_some());
    let open = match b.status {
        BookingStatus::Confirmed => now >= b.pickup_opens_at(),
        BookingStatus::InProgress | BookingStatus::Returned => true,
        _ => false,
    };
    if !open || settled {
        return Err(AppError::conflict(
            "evidence_not_open",
            "evidence is added from the pickup's opening until the deposit is settled",
        ));
    }
    if case.evidence.iter().filter(|f| f.uploader == party).count() >= MAX_FILES_PER_PARTY {
        return Err(AppError::conflict("too_many_files", format!("at most {MAX_FILES_PER_PARTY} files per party")));
    }
    let file = EvidenceFile::pending(id.clone(), party, caller.user_id.clone(), spec, now);
    store.add_evidence(&file).await?;
    let valid_for = std::time::Duration::from_secs(UPLOAD_URL_SECS);
    let upload = uploads.presign_put(&file.object_key(), spec.content_type, spec.size_bytes, valid_for, now).await?;
    tracing::info!(booking_id = %id, evidence_id = %file.id, size_bytes = spec.size_bytes, "evidence upload presigned");
    Ok((file, upload))
}

/// Checks the uploaded bytes of `file` (received by S3 at `received_at`): accepted with its type,
/// SHA-256, receive time and, for a photo, its EXIF capture time and the renditions `render`
/// made (a photo it cannot decode is refused), or refused with the reason. `None` when there is
/// nothing to do (an already checked file, an object gone).
pub async fn check_upload<S, O>(
    store: &S,
    objects: &O,
    render: RenderPhoto,
    file: &EvidenceFile,
    received_at: DateTime<Utc>,
) -> Result<Option<EvidenceFile>, AppError>
where
    S: EvidenceStore,
    O: EvidenceObjects,
{
    if file.status != EvidenceStatus::PendingUpload {
        return Ok(None);
    }
    // Counted before the work: the last delivery of a file every check failed on (a photo that
    // crashes the decoder, a fault each time) refuses it instead of leaving it pending forever.
    let Some(attempt) = store.begin_check(file).await? else {
        return Ok(None);
    };
    let file = &EvidenceFile { check_attempts: attempt, ..file.clone() };
    if attempt >= LAST_CHECK_ATTEMPT {
        tracing::warn!(evidence_id = %file.id, attempt, "every check of this file failed; refused");
        return record_check(store, file.checked(Err(Refusal::CheckFailed))).await;
    }
    let outcome = match objects.read(&file.object_key(), MAX_EVIDENCE_BYTES).await? {
        None => return Ok(None),
        Some(Err(_)) => Err(Refusal::TooLarge),
        // CPU-bound work off the async threads; the bytes are read once.
        Some(Ok(bytes)) => tokio::task::spawn_blocking(move || inspect(&bytes, render, received_at))
            .await
            .map_err(AppError::internal)?,
    };
    let outcome = match outcome {
        Ok((checked, webps)) => {
            // Renditions first: a file is recorded accepted only once they are all stored.
            for (r, webp) in webps {
                objects.put_rendition(&rendition_key(&file.booking_id, &file.id, &r.name), webp).await?;
            }
            Ok(checked)
        }
        Err(refusal) => Err(refusal),
    };
    record_check(store, file.checked(outcome)).await
}

async fn record_check<S: EvidenceStore>(store: &S, checked: EvidenceFile) -> Result<Option<EvidenceFile>, AppError> {
    match store.finish_evidence(&checked).await? {
        Recorded::New => Ok(Some(checked)),
        Recorded::Duplicate => Ok(None),
    }
}

/// What `bytes` are (the evidence check), with a photo decoded and rendered.
type Inspected = (Checked, Vec<(Rendition, Vec<u8>)>);

fn inspect(bytes: &[u8], render: RenderPhoto, received_at: DateTime<Utc>) -> Result<Inspected, Refusal> {
    let kind = crate::domain::evidence::check(bytes)?;
    let photo = matches!(kind, EvidenceType::Jpeg | EvidenceType::Png | EvidenceType::Webp);
    // A photo the pipeline cannot render for its size (too small, too many pixels) is still
    // evidence, served as uploaded; one it cannot decode is no photo.
    let rendered = match photo.then(|| render(bytes)) {
        Some(Ok(done)) => done.renditions,
        Some(Err(Refusal::ImageSize)) | None => Vec::new(),
        Some(Err(refusal)) => return Err(refusal),
    };
    let checked = Checked {
        kind,
        sha256: sha256_hex(bytes),
        size_bytes: bytes.len() as u64,
        received_at,
        captured_at: (kind == EvidenceType::Jpeg).then(|| capture_time(bytes)).flatten(),
        renditions: rendered.iter().map(|(r, _)| r.clone()).collect(),
    };
    Ok((checked, rendered))
}

/// The event of a claim's step, with the claim in it.
fn claim_event(kind: &str, case: &ClaimCase, claim: &DamageClaim, actor: &str, now: DateTime<Utc>) -> DomainEvent {
    let mut event = crate::bookings::event(kind, &case.booking, None, now);
    event.actor = Some(actor.to_owned());
    event.data["claim"] = serde_json::json!({
        "id": claim.id, "amount": claim.amount, "currency": claim.currency.code(), "status": claim.status,
        "settled_for": claim.settled_for(), "answer_by": claim.answer_by,
    });
    event
}

/// The deposit with `claim` recorded against it (what it owes, once settled), one version on.
fn deposit_for(case: &ClaimCase, claim: &DamageClaim, now: DateTime<Utc>) -> Result<(Deposit, u64), AppError> {
    let deposit = case.deposit.as_ref().ok_or_else(|| AppError::internal("a claim's booking has no deposit"))?;
    // A claim is kept on its deposit until settled (decision 0043): a settled one here is a bug.
    if !deposit.settleable() {
        return Err(AppError::internal(format!("claim {} written over a settled deposit", claim.id)));
    }
    let damage = Damage { claim_id: claim.id.clone(), owed: claim.settled_for() };
    Ok((deposit.with_damage(damage, now), deposit.version))
}

/// Reads booking `id`'s case and writes what `step` makes of it, again on a concurrent change.
async fn step<S, F>(store: &S, id: &BookingId, step: F) -> Result<DamageClaim, AppError>
where
    S: ClaimStore,
    F: Fn(&ClaimCase) -> Result<(DamageClaim, Option<(Deposit, u64)>, DomainEvent), AppError>,
{
    for _ in 0..TRIES {
        let case = store.claim_case(id).await?.ok_or(AppError::NotFound("booking"))?;
        let (next, deposit, event) = step(&case)?;
        let previous = case.claim.as_ref().map(|c| c.version);
        match store.save_claim(&next, previous, deposit.as_ref().map(|(d, v)| (d, *v)), &event).await {
            Ok(()) => {
                tracing::info!(booking_id = %id, claim_id = %next.id, status = next.status.as_str(), event_id = %event.id, "claim stepped");
                crate::metrics::count("ClaimSteps", &[("Status", next.status.as_str())]);
                return Ok(next);
            }
            Err(AppError::PreconditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(AppError::conflict("claim_busy", "the booking's deposit kept changing; try again"))
}

/// The owner files a claim against booking `id`'s deposit (`window`: the claim window).
pub async fn file<S: ClaimStore>(
    store: &S,
    id: &BookingId,
    caller: &Caller,
    request: ClaimRequest,
    window: Duration,
    now: DateTime<Utc>,
) -> Result<DamageClaim, AppError> {
    step(store, id, |case| {
        match case.booking.party(&caller.user_id) {
            Some(Party::Owner) => {}
            Some(Party::Renter) => return Err(AppError::Forbidden),
            None => return Err(AppError::NotFound("booking")),
        }
        let deposit = case
            .deposit
            .as_ref()
            .ok_or_else(|| AppError::conflict("no_deposit", "this booking has no deposit to claim against"))?;
        if case.claim.is_some() {
            return Err(AppError::conflict("claim_exists", "this booking already has a claim"));
        }
        check_claimable(&case.booking, deposit, window, now)?;
        let new = request.parse(deposit)?;
        check_cited("evidence", &new.evidence, &case.evidence, Party::Owner)?;
        let claim = DamageClaim::file(&case.booking, deposit, new, now);
        let event = claim_event(kinds::CLAIM_FILED, case, &claim, caller.user_id.as_str(), now);
        Ok((claim.clone(), Some(deposit_for(case, &claim, now)?), event))
    })
    .await
}

/// The renter answers the claim on booking `id`: accepted (settled for its amount) or contested.
pub async fn answer<S: ClaimStore>(
    store: &S,
    id: &BookingId,
    caller: &Caller,
    request: AnswerRequest,
    now: DateTime<Utc>,
) -> Result<DamageClaim, AppError> {
    let parsed = request.parse()?;
    step(store, id, |case| {
        let claim = case.claim.as_ref().filter(|_| case.booking.party(&caller.user_id).is_some());
        let claim = claim.ok_or(AppError::NotFound("claim"))?;
        if case.booking.party(&caller.user_id) != Some(Party::Renter) {
            return Err(AppError::Forbidden);
        }
        if let ParsedAnswer::Contest { evidence, .. } = &parsed {
            check_cited("evidence", evidence, &case.evidence, Party::Renter)?;
        }
        let next = claim.answered(parsed.clone(), true, now)?;
        let kind = if next.status == ClaimStatus::Accepted { kinds::CLAIM_ACCEPTED } else { kinds::CLAIM_CONTESTED };
        let event = claim_event(kind, case, &next, caller.user_id.as_str(), now);
        let deposit = next.settled_for().map(|_| deposit_for(case, &next, now)).transpose()?;
        Ok((next, deposit, event))
    })
    .await
}

/// Accepts every open claim whose answer was due before `now` (at most `limit`): how many were
/// accepted, and how many failed (each is retried on the next run; one never stops the rest).
pub async fn accept_overdue<S: ClaimStore>(
    store: &S,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<(usize, usize), AppError> {
    let (mut accepted, mut failed) = (0, 0);
    for id in store.due_claims(now, limit).await? {
        let outcome = step(store, &id, |case| {
            let claim = case.claim.as_ref().ok_or(AppError::NotFound("claim"))?;
            if now < claim.answer_by {
                return Err(AppError::conflict("claim_not_due", "answered or not due yet"));
            }
            let next = claim.answered(ParsedAnswer::Accept, false, now)?;
            let event = claim_event(kinds::CLAIM_ACCEPTED, case, &next, "system", now);
            Ok((next.clone(), Some(deposit_for(case, &next, now)?), event))
        })
        .await;
        match outcome {
            Ok(_) => accepted += 1,
            // Answered meanwhile (the index lags the table): nothing to do.
            Err(AppError::Conflict { code, .. }) if code != "claim_busy" => {
                tracing::info!(booking_id = %id, code, "claim not accepted by the deadline: answered meanwhile");
            }
            Err(e) => {
                failed += 1;
                tracing::warn!(booking_id = %id, code = e.code(), error = %e.for_log(), "claim not accepted; retried next run");
            }
        }
    }
    Ok((accepted, failed))
}

/// An operator decides the escalated claim `claim_id`: settled for the decided amount.
pub async fn decide<S: ClaimStore>(
    store: &S,
    claim_id: &ClaimId,
    caller: &Caller,
    request: DecisionRequest,
    now: DateTime<Utc>,
) -> Result<DamageClaim, AppError> {
    if !caller.is_in_group(OPERATORS_GROUP) {
        return Err(AppError::Forbidden);
    }
    let id = store.claim_booking(claim_id).await?.ok_or(AppError::NotFound("claim"))?;
    step(store, &id, |case| {
        let claim = case.claim.as_ref().filter(|c| c.id == *claim_id).ok_or(AppError::NotFound("claim"))?;
        // No operator decides a claim of their own booking.
        if case.booking.party(&caller.user_id).is_some() {
            return Err(AppError::Forbidden);
        }
        let (amount, note) = request.parse(claim)?;
        let next = claim.decided(amount, note, caller.user_id.clone(), now)?;
        let event = claim_event(kinds::CLAIM_DECIDED, case, &next, caller.user_id.as_str(), now);
        Ok((next.clone(), Some(deposit_for(case, &next, now)?), event))
    })
    .await
}

/// Whether `caller` may read booking `case`'s claim and evidence: its parties and operators.
pub fn may_read(case: &ClaimCase, caller: &Caller) -> bool {
    case.booking.party(&caller.user_id).is_some() || caller.is_in_group(OPERATORS_GROUP)
}

/// The evidence files as a reader sees them: accepted files with a download URL valid for five
/// minutes (never a public one), refused ones with their reason.
pub async fn evidence_view<O: EvidenceObjects>(
    objects: &O,
    files: &[EvidenceFile],
    now: DateTime<Utc>,
) -> Result<Vec<serde_json::Value>, AppError> {
    let valid_for = std::time::Duration::from_secs(DOWNLOAD_URL_SECS);
    let mut views = Vec::with_capacity(files.len());
    for f in files {
        let mut view = serde_json::to_value(f).map_err(AppError::internal)?;
        let expires_at = now + Duration::seconds(DOWNLOAD_URL_SECS as i64);
        if f.status == EvidenceStatus::Accepted {
            let url = objects.presign_get(&f.object_key(), valid_for).await?;
            view["download"] = serde_json::json!({ "url": url, "expires_at": expires_at });
        }
        let renditions = f.checked.as_ref().map(|c| c.renditions.as_slice()).unwrap_or_default();
        for (i, r) in renditions.iter().enumerate() {
            let url = objects.presign_get(&rendition_key(&f.booking_id, &f.id, &r.name), valid_for).await?;
            view["renditions"][i]["url"] = serde_json::json!(url);
            view["renditions"][i]["expires_at"] = serde_json::json!(expires_at);
        }
        views.push(view);
    }
    Ok(views)
}

/// Booking `id`'s claim as `caller` (a party or an operator) reads it (`null` before one is
/// filed), with every evidence file of the booking; 404 for anyone else.
pub async fn view<S, O>(
    store: &S,
    objects: &O,
    id: &BookingId,
    caller: &Caller,
    with_reports: bool,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, AppError>
where
    S: ClaimStore,
    O: EvidenceObjects,
{
    let case = store.claim_case(id).await?.ok_or(AppError::NotFound("booking"))?;
    if !may_read(&case, caller) {
        return Err(AppError::NotFound("booking"));
    }
    let evidence = evidence_view(objects, &case.evidence, now).await?;
    let mut view = serde_json::json!({ "claim": case.claim, "evidence": evidence });
    if with_reports {
        view["booking"] = serde_json::to_value(&case.booking).map_err(AppError::internal)?;
        let deposit = case.deposit.as_ref().map(crate::views::DepositView::of);
        view["deposit"] = serde_json::to_value(deposit).map_err(AppError::internal)?;
        view["condition_reports"] = serde_json::to_value(&case.reports).map_err(AppError::internal)?;
    }
    Ok(view)
}

/// Whether operator `caller` may read booking `id`'s messages: once its claim was contested
/// (escalated, or decided since), so they can weigh what the parties said (issue 25).
pub async fn operator_may_read_thread<S: ClaimStore>(
    store: &S,
    id: &BookingId,
    caller: &Caller,
) -> Result<bool, AppError> {
    if !caller.is_in_group(OPERATORS_GROUP) {
        return Ok(false);
    }
    let claim = store.booking_claim(id).await?;
    let contested = claim.is_some_and(|c| c.answer.is_some_and(|a| !a.accepted));
    if contested {
        tracing::info!(booking_id = %id, operator = %caller.user_id, "an operator reads a contested claim's thread");
    }
    Ok(contested)
}
