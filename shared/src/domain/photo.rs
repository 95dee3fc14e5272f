//! Listing photos: uploaded by the owner straight to S3 through a presigned PUT, processed by
//! the image function into web renditions, shown on the listing when ready.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::listing::ListingId;
use crate::error::{AppError, FieldError};

id_type!(
    /// A photo's id: a UUID v7.
    PhotoId,
    uuid "photo"
);

string_enum!(PhotoStatus { PendingUpload => "pending_upload", Ready => "ready", Rejected => "rejected" });

pub const CONTENT_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];
pub const MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024;
pub const MAX_PHOTOS_PER_LISTING: u32 = 20;
/// How long a presigned upload URL stays valid.
pub const UPLOAD_URL_SECS: u64 = 15 * 60;

/// `POST /listings/{id}/photos` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    pub content_type: String,
    pub size_bytes: u64,
}

/// An upload the server agreed to: the declared type and length are bound into the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSpec {
    pub content_type: &'static str,
    pub size_bytes: u64,
}

impl UploadSpec {
    pub fn parse(req: &UploadRequest) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let content_type = CONTENT_TYPES.iter().copied().find(|t| *t == req.content_type.trim().to_ascii_lowercase());
        if content_type.is_none() {
            errors.push(FieldError::new("content_type", "must be image/jpeg, image/png or image/webp"));
        }
        if req.size_bytes == 0 || req.size_bytes > MAX_UPLOAD_BYTES {
            errors.push(FieldError::new("size_bytes", format!("must be 1 to {MAX_UPLOAD_BYTES} bytes (20 MiB)")));
        }
        match content_type {
            Some(content_type) if errors.is_empty() => Ok(UploadSpec { content_type, size_bytes: req.size_bytes }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// `PATCH /listings/{id}/photos/{photo_id}` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoPatch {
    pub position: Option<u32>,
    pub is_cover: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenditionRef {
    pub name: String,
    pub key: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub id: PhotoId,
    pub listing_id: ListingId,
    pub status: PhotoStatus,
    pub content_type: String,
    pub size_bytes: u64,
    pub position: u32,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub rejection: Option<String>,
    pub renditions: Vec<RenditionRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Photo {
    pub fn pending(listing_id: ListingId, spec: &UploadSpec, position: u32, now: DateTime<Utc>) -> Self {
        let now = now.trunc_subsecs(3);
        Photo {
            id: PhotoId::generate(),
            listing_id,
            status: PhotoStatus::PendingUpload,
            content_type: spec.content_type.to_owned(),
            size_bytes: spec.size_bytes,
            position,
            width: None,
            height: None,
            rejection: None,
            renditions: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Where the owner's browser puts the original (chosen here, never from user input).
    pub fn original_key(&self) -> String {
        original_key(&self.listing_id, &self.id)
    }

    /// Every object this photo owns: the original and its renditions' keys.
    pub fn rendition_keys(&self) -> Vec<String> {
        crate::domain::photo::RENDITION_NAMES.iter().map(|n| rendition_key(&self.listing_id, &self.id, n)).collect()
    }
}

pub const RENDITION_NAMES: [&str; 3] = ["thumb", "medium", "large"];

pub fn original_key(listing: &ListingId, photo: &PhotoId) -> String {
    format!("uploads/listings/{listing}/{photo}")
}

/// In the media bucket, which nothing but the image function writes and which triggers nothing.
pub fn rendition_key(listing: &ListingId, photo: &PhotoId, name: &str) -> String {
    format!("listings/{listing}/{photo}/{name}.webp")
}

/// The listing and photo an uploaded object belongs to, from its (decoded) key; `None` for
/// any object we did not ask for.
pub fn parse_original_key(key: &str) -> Option<(ListingId, PhotoId)> {
    let rest = key.strip_prefix("uploads/listings/")?;
    let (listing, photo) = rest.split_once('/')?;
    Some((ListingId::parse(listing).ok()?, PhotoId::parse(photo).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_rules() {
        let req = |ct: &str, n: u64| UploadRequest { content_type: ct.into(), size_bytes: n };
        assert_eq!(UploadSpec::parse(&req("image/JPEG", 10)).unwrap().content_type, "image/jpeg");
        for (ct, n) in [("image/gif", 10), ("text/plain", 10), ("image/png", 0), ("image/png", MAX_UPLOAD_BYTES + 1)] {
            assert_eq!(UploadSpec::parse(&req(ct, n)).unwrap_err().code(), "validation_failed", "{ct} {n}");
        }
    }

    #[test]
    fn keys_round_trip_and_refuse_strangers() {
        let (l, p) = (ListingId::generate(), PhotoId::generate());
        assert_eq!(parse_original_key(&original_key(&l, &p)), Some((l.clone(), p.clone())));
        for bad in [
            "uploads/listings/x/y",
            "other/listings/a/b",
            "uploads/listings/",
            &format!("uploads/listings/{l}/{p}/../x"),
        ] {
            assert_eq!(parse_original_key(bad), None, "{bad}");
        }
        assert_eq!(rendition_key(&l, &p, "thumb"), format!("listings/{l}/{p}/thumb.webp"));
    }
}
