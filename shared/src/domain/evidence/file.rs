//! An evidence file of a booking (decision 0043): a party asks to upload one (declared type and
//! length signed into a presigned PUT to the private evidence bucket), the check reads what
//! arrived, records its type by its bytes, its SHA-256 and when S3 received it, or refuses it
//! with a reason code. Claims and answers cite accepted files by id.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::{EvidenceType, Refusal};
use crate::domain::booking::{BookingId, Party};
use crate::domain::user::UserId;
use crate::error::{AppError, FieldError};

id_type!(
    /// An evidence file's id: a UUID v7.
    EvidenceId,
    uuid "evidence file"
);

string_enum!(
    /// Where an evidence file stands.
    EvidenceStatus { PendingUpload => "pending_upload", Accepted => "accepted", Refused => "refused" }
);

/// What a party may upload: documents and photos.
pub const CONTENT_TYPES: [&str; 4] = ["application/pdf", "image/jpeg", "image/png", "image/webp"];
/// Files one party may add to one booking: both reports' photos and a claim's or an answer's
/// documents, each citing at most `MAX_CITED`.
pub const MAX_FILES_PER_PARTY: usize = 60;
/// Files one report, claim or answer may cite.
pub const MAX_CITED: usize = 20;
/// How long a presigned upload URL stays valid.
pub const UPLOAD_URL_SECS: u64 = 15 * 60;
/// How long a presigned download URL of a private file stays valid (at most 5 minutes).
pub const DOWNLOAD_URL_SECS: u64 = 5 * 60;

/// `POST /bookings/{id}/evidence` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceUploadRequest {
    pub content_type: String,
    pub size_bytes: u64,
}

/// An upload the server agreed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvidenceUploadSpec {
    pub content_type: &'static str,
    pub size_bytes: u64,
}

impl EvidenceUploadSpec {
    pub fn parse(req: &EvidenceUploadRequest) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let declared = req.content_type.trim().to_ascii_lowercase();
        let content_type = CONTENT_TYPES.iter().copied().find(|t| *t == declared);
        if content_type.is_none() {
            errors
                .push(FieldError::new("content_type", "must be application/pdf, image/jpeg, image/png or image/webp"));
        }
        let max = super::MAX_EVIDENCE_BYTES as u64;
        if req.size_bytes == 0 || req.size_bytes > max {
            errors.push(FieldError::new(
                "size_bytes",
                format!("must be 1 to {max} bytes (20 MiB); an empty file is refused"),
            ));
        }
        match content_type {
            Some(content_type) if errors.is_empty() => {
                Ok(EvidenceUploadSpec { content_type, size_bytes: req.size_bytes })
            }
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// What the check found in an accepted file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The type its bytes say it is (whatever was declared), as a media type.
    #[serde(serialize_with = "media_type")]
    pub kind: EvidenceType,
    pub sha256: String,
    pub size_bytes: u64,
    /// When S3 received it (the event's time).
    pub received_at: DateTime<Utc>,
    /// A JPEG's capture time by its EXIF data, as its camera wrote it (`exif.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// A photo's WebP renditions by the image pipeline (none for a document).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub renditions: Vec<Rendition>,
}

/// One rendition of a photo, kept privately beside its original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
}

/// Where rendition `name` of file `id` is, in the private evidence bucket (outside `evidence/`,
/// so writing it triggers nothing).
pub fn rendition_key(booking: &BookingId, id: &EvidenceId, name: &str) -> String {
    format!("renditions/{booking}/{id}/{name}.webp")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceFile {
    pub id: EvidenceId,
    pub booking_id: BookingId,
    pub uploader: Party,
    pub uploader_id: UserId,
    pub declared_type: String,
    pub declared_size: u64,
    pub status: EvidenceStatus,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub checked: Option<Checked>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    /// Checks begun of a pending file: one that keeps failing (a photo that crashes the
    /// decoder, say) is refused on its last delivery rather than left pending.
    #[serde(skip)]
    pub check_attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// The delivery of an upload's event that refuses it (`check_failed`) instead of checking it
/// again: S3 invokes the check at most three times (Lambda's two retries).
pub const LAST_CHECK_ATTEMPT: u32 = 3;

impl EvidenceFile {
    pub fn pending(
        booking_id: BookingId,
        uploader: Party,
        uploader_id: UserId,
        spec: EvidenceUploadSpec,
        now: DateTime<Utc>,
    ) -> Self {
        EvidenceFile {
            id: EvidenceId::generate(),
            booking_id,
            uploader,
            uploader_id,
            declared_type: spec.content_type.to_owned(),
            declared_size: spec.size_bytes,
            status: EvidenceStatus::PendingUpload,
            checked: None,
            refusal: None,
            check_attempts: 0,
            created_at: now.trunc_subsecs(3),
        }
    }

    pub fn object_key(&self) -> String {
        object_key(&self.booking_id, &self.id)
    }

    /// This file once its bytes were checked: accepted, or refused with the reason.
    pub fn checked(&self, outcome: Result<Checked, Refusal>) -> EvidenceFile {
        let mut next = self.clone();
        match outcome {
            Ok(checked) => (next.status, next.checked) = (EvidenceStatus::Accepted, Some(checked)),
            Err(refusal) => (next.status, next.refusal) = (EvidenceStatus::Refused, Some(refusal)),
        }
        next
    }
}

fn media_type<S: serde::Serializer>(kind: &EvidenceType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

/// Where an evidence file's bytes are, in the private evidence bucket.
pub fn object_key(booking: &BookingId, id: &EvidenceId) -> String {
    format!("evidence/{booking}/{id}")
}

/// The booking and file an uploaded object belongs to; `None` for any key we did not hand out.
pub fn parse_object_key(key: &str) -> Option<(BookingId, EvidenceId)> {
    let (booking, id) = key.strip_prefix("evidence/")?.split_once('/')?;
    Some((BookingId::parse(booking).ok()?, EvidenceId::parse(id).ok()?))
}

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The ids `raw` names, each once, at most `MAX_CITED`; problems under `field`.
pub fn parse_ids(field: &str, raw: &[String], errors: &mut Vec<FieldError>) -> Vec<EvidenceId> {
    if raw.len() > MAX_CITED {
        errors.push(FieldError::new(field, format!("must name at most {MAX_CITED} files")));
    }
    let mut ids: Vec<EvidenceId> = Vec::new();
    for (i, id) in raw.iter().enumerate() {
        match EvidenceId::parse(id) {
            Ok(id) if ids.contains(&id) => errors.push(FieldError::new(format!("{field}[{i}]"), "names a file twice")),
            Ok(id) => ids.push(id),
            Err(_) => errors.push(FieldError::new(format!("{field}[{i}]"), "must be an evidence file id")),
        }
    }
    ids
}

/// Whether `cited` are all files `party` uploaded to this booking and the check accepted; every
/// problem at once (400), or 409 `evidence_pending` while one is still being checked.
pub fn check_cited(field: &str, cited: &[EvidenceId], files: &[EvidenceFile], party: Party) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let mut pending = false;
    for (i, id) in cited.iter().enumerate() {
        let at = format!("{field}[{i}]");
        match files.iter().find(|f| f.id == *id && f.uploader == party) {
            None => errors.push(FieldError::new(&at, "is not a file you uploaded to this booking")),
            Some(f) if f.status == EvidenceStatus::PendingUpload => pending = true,
            Some(f) => {
                if let Some(reason) = f.refusal {
                    errors.push(FieldError::new(&at, format!("was refused ({})", reason.as_str())));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if pending {
        return Err(AppError::conflict("evidence_pending", "a cited file is still being checked; try again shortly"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(party: Party, status: EvidenceStatus, refusal: Option<Refusal>) -> EvidenceFile {
        let spec = EvidenceUploadSpec { content_type: "application/pdf", size_bytes: 10 };
        let mut f = EvidenceFile::pending(BookingId::generate(), party, UserId::parse("u1").unwrap(), spec, Utc::now());
        (f.status, f.refusal) = (status, refusal);
        f
    }

    #[test]
    fn uploads_declare_a_known_type_and_a_length_within_bounds() {
        let ok =
            EvidenceUploadSpec::parse(&EvidenceUploadRequest { content_type: "Application/PDF".into(), size_bytes: 5 });
        assert_eq!(ok.unwrap().content_type, "application/pdf");
        let bad =
            EvidenceUploadSpec::parse(&EvidenceUploadRequest { content_type: "text/plain".into(), size_bytes: 0 });
        let Err(AppError::Validation(errors)) = bad else { panic!("refused") };
        assert_eq!(errors.len(), 2, "both problems at once");
        let big = (super::super::MAX_EVIDENCE_BYTES + 1) as u64;
        assert!(EvidenceUploadSpec::parse(&EvidenceUploadRequest {
            content_type: "image/png".into(),
            size_bytes: big
        })
        .is_err());
    }

    #[test]
    fn keys_round_trip_and_strangers_are_ignored() {
        let f = file(Party::Owner, EvidenceStatus::PendingUpload, None);
        assert_eq!(parse_object_key(&f.object_key()), Some((f.booking_id.clone(), f.id.clone())));
        assert_eq!(parse_object_key("uploads/listings/a/b"), None);
        assert_eq!(parse_object_key(&format!("evidence/{}/not-an-id", f.booking_id)), None);
    }

    #[test]
    fn hashes_are_sha256() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn cited_files_must_be_the_partys_and_accepted() {
        let mine = file(Party::Owner, EvidenceStatus::Accepted, None);
        let theirs = file(Party::Renter, EvidenceStatus::Accepted, None);
        let refused = file(Party::Owner, EvidenceStatus::Refused, Some(Refusal::PdfJavascript));
        let pending = file(Party::Owner, EvidenceStatus::PendingUpload, None);
        let files = [mine.clone(), theirs.clone(), refused.clone(), pending.clone()];
        assert!(check_cited("evidence", std::slice::from_ref(&mine.id), &files, Party::Owner).is_ok());
        let Err(AppError::Validation(errors)) =
            check_cited("evidence", &[theirs.id.clone(), refused.id.clone()], &files, Party::Owner)
        else {
            panic!("refused")
        };
        assert_eq!(errors.len(), 2);
        assert!(errors[1].message.contains("pdf_javascript"), "{errors:?}");
        let waiting = check_cited("evidence", std::slice::from_ref(&pending.id), &files, Party::Owner);
        assert!(matches!(waiting, Err(AppError::Conflict { code: "evidence_pending", .. })), "{waiting:?}");
        let mut errors = Vec::new();
        let ids = parse_ids("evidence", &[mine.id.to_string(), mine.id.to_string(), "x".into()], &mut errors);
        assert_eq!((ids.len(), errors.len()), (1, 2));
    }
}
