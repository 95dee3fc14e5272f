//! S3 ObjectCreated on `evidence/` in the private evidence bucket: reads the uploaded file once
//! (at most 20 MiB), tells its type by its bytes and checks a PDF (parses; not encrypted; no
//! JavaScript, XFA or launch action) or decodes a photo through the image pipeline into three
//! WebP renditions (stored privately beside it), then records the file accepted with its
//! SHA-256, the time S3 received it and a JPEG's EXIF capture time, or refused with a reason
//! code. A refusal is an outcome, not an error. S3 delivers at least once: only a pending file
//! is ever finished (decision 0043). Built on its own, with `process-photo`'s codecs.

mod wiring;
pub use wiring::run;

use aws_lambda_events::event::s3::S3Event;
use shared::domain::evidence::file::parse_object_key;
use shared::domain::evidence::file::Rendition;
use shared::domain::evidence::Refusal;
use shared::ports::{EvidenceObjects, EvidenceStore, RenderedPhoto};
use shared::AppError;

pub struct Deps<S, O> {
    pub store: S,
    pub objects: O,
}

/// S3 event keys are form-urlencoded (`+` for space, `%2F` and friends).
fn decode_key(raw: &str) -> String {
    percent_encoding::percent_decode_str(&raw.replace('+', " ")).decode_utf8_lossy().into_owned()
}

pub async fn handle<S, O>(event: S3Event, deps: &Deps<S, O>) -> Result<(), AppError>
where
    S: EvidenceStore,
    O: EvidenceObjects,
{
    for record in event.records {
        let key = decode_key(record.s3.object.key.as_deref().unwrap_or_default());
        let Some((booking, id)) = parse_object_key(&key) else {
            tracing::warn!(key = %key, "not an evidence upload; ignored");
            continue;
        };
        let Some(file) = deps.store.get_evidence(&booking, &id).await? else {
            tracing::warn!(evidence_id = %id, "no such evidence file; ignored");
            continue;
        };
        // When S3 received it.
        let received_at = record.event_time;
        match shared::claims::check_upload(&deps.store, &deps.objects, render, &file, received_at).await? {
            Some(checked) => {
                let refusal = checked.refusal.map(|r| r.as_str()).unwrap_or("");
                tracing::info!(booking_id = %booking, evidence_id = %id, status = checked.status.as_str(), refusal, "evidence checked");
                shared::metrics::count("EvidenceChecked", &[("Status", checked.status.as_str())]);
            }
            None => tracing::info!(evidence_id = %id, "already checked, or gone; duplicate or late event"),
        }
    }
    Ok(())
}

/// The listing photos' pipeline, for evidence photos: decoded (a photo it cannot read is
/// refused) and rendered into the same three WebP sizes, metadata stripped.
pub fn render(bytes: &[u8]) -> Result<RenderedPhoto, Refusal> {
    use process_photo::pipeline::{process, Rejection};
    let processed = process(bytes).map_err(|rejection| match rejection {
        Rejection::TooManyPixels | Rejection::TooSmall => Refusal::ImageSize,
        Rejection::TooLarge => Refusal::TooLarge,
        Rejection::NotAnImage | Rejection::UnsupportedFormat | Rejection::Corrupt => Refusal::ImageUnreadable,
    })?;
    let renditions = processed
        .renditions
        .into_iter()
        .map(|r| (Rendition { name: r.name.to_owned(), width: r.width, height: r.height }, r.webp))
        .collect();
    Ok(RenderedPhoto { renditions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_every_check_failed_on_is_refused_on_its_last_delivery() {
        use shared::domain::evidence::file::{EvidenceFile, EvidenceStatus, EvidenceUploadSpec, LAST_CHECK_ATTEMPT};
        use shared::ports::EvidenceStore;
        use shared::testing::{claimable, FakeEvidence, FixedClock, MemoryStore};
        let deps = Deps { store: MemoryStore::default(), objects: FakeEvidence::default() };
        let now = shared::domain::Clock::now(&FixedClock::default());
        let (b, _) = claimable(&deps.store, now).await.unwrap();
        let spec = EvidenceUploadSpec { content_type: "image/jpeg", size_bytes: 4 };
        let file =
            EvidenceFile::pending(b.id.clone(), shared::domain::booking::Party::Owner, b.owner_id.clone(), spec, now);
        deps.store.add_evidence(&file).await.unwrap();
        deps.objects.objects.lock().unwrap().insert(file.object_key(), vec![0xFF, 0xD8, 0xFF, 0xE0]);
        // Two deliveries began and died (a crashing decoder) before recording anything.
        let mut seen = file.clone();
        for _ in 1..LAST_CHECK_ATTEMPT {
            seen.check_attempts = deps.store.begin_check(&seen).await.unwrap().unwrap();
        }
        let mut event: S3Event = serde_json::from_str(include_str!("../../../events/check-evidence.json")).unwrap();
        event.records[0].s3.object.key = Some(file.object_key());
        handle(event, &deps).await.unwrap();
        let stored = deps.store.get_evidence(&b.id, &file.id).await.unwrap().unwrap();
        assert_eq!((stored.status, stored.refusal), (EvidenceStatus::Refused, Some(Refusal::CheckFailed)));
    }

    #[test]
    fn photos_it_cannot_read_are_refused() {
        assert_eq!(render(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 2]).err(), Some(Refusal::ImageUnreadable));
    }

    #[test]
    fn keys_arrive_form_urlencoded() {
        assert_eq!(decode_key("evidence%2Fa%2Fb"), "evidence/a/b");
    }
}
