//! S3 ObjectCreated on `uploads/` (its own Lambda, 512 MB): validates the upload and writes
//! three WebP renditions to the media bucket (which triggers nothing), then marks the photo
//! `ready`, or `rejected` with a reason code the owner sees. A rejection is a normal outcome,
//! not an error, so it is never retried. S3 delivers at least once and possibly out of order:
//! only a `pending_upload` photo is ever finished, and an event for a deleted photo is dropped.

mod wiring;
pub use wiring::run;

pub mod pipeline;

use std::time::Instant;

use aws_lambda_events::event::s3::S3Event;
use shared::domain::photo::{parse_original_key, rendition_key, Photo, PhotoStatus, RenditionRef};
use shared::domain::Clock;
use shared::ports::{PhotoObjects, PhotoStore, Recorded};
use shared::AppError;

pub struct Deps<S, O, C> {
    pub store: S,
    pub objects: O,
    pub clock: C,
}

/// S3 event keys are form-urlencoded (`+` for space, `%2F` and friends).
pub fn decode_key(raw: &str) -> String {
    percent_encoding::percent_decode_str(&raw.replace('+', " ")).decode_utf8_lossy().into_owned()
}

pub async fn handle<S, O, C>(event: S3Event, deps: &Deps<S, O, C>) -> Result<(), AppError>
where
    S: PhotoStore,
    O: PhotoObjects,
    C: Clock,
{
    for record in event.records {
        let key = decode_key(record.s3.object.key.as_deref().unwrap_or_default());
        let Some((listing, photo_id)) = parse_original_key(&key) else {
            tracing::warn!(key = %key, "not a photo upload; ignored");
            continue;
        };
        let Some(photo) = deps.store.get_photo(&listing, &photo_id).await? else {
            tracing::info!(photo_id = %photo_id, "photo was deleted; event dropped");
            continue;
        };
        if photo.status != PhotoStatus::PendingUpload {
            tracing::info!(photo_id = %photo_id, status = photo.status.as_str(), "already finished; duplicate or late event");
            continue;
        }
        process(photo, &key, deps).await?;
    }
    Ok(())
}

async fn process<S, O, C>(photo: Photo, key: &str, deps: &Deps<S, O, C>) -> Result<(), AppError>
where
    S: PhotoStore,
    O: PhotoObjects,
    C: Clock,
{
    let started = Instant::now();
    let outcome = match deps.objects.read_original(key, pipeline::MAX_BYTES).await? {
        None => {
            tracing::info!(photo_id = %photo.id, "original is gone; event dropped");
            return Ok(());
        }
        Some(Err(size)) => {
            tracing::info!(photo_id = %photo.id, size, "original over the size cap");
            Err(pipeline::Rejection::TooLarge)
        }
        // CPU-bound work off the async threads.
        Some(Ok(bytes)) => {
            tokio::task::spawn_blocking(move || pipeline::process(&bytes)).await.map_err(AppError::internal)?
        }
    };
    let mut finished = photo.clone();
    finished.updated_at = deps.clock.now();
    match outcome {
        Ok(done) => {
            for r in &done.renditions {
                deps.objects
                    .put_rendition(&rendition_key(&photo.listing_id, &photo.id, r.name), r.webp.clone())
                    .await?;
            }
            finished.status = PhotoStatus::Ready;
            finished.width = Some(done.width);
            finished.height = Some(done.height);
            finished.renditions = done
                .renditions
                .iter()
                .map(|r| RenditionRef {
                    name: r.name.to_owned(),
                    key: rendition_key(&photo.listing_id, &photo.id, r.name),
                    width: r.width,
                    height: r.height,
                })
                .collect();
        }
        Err(rejection) => {
            finished.status = PhotoStatus::Rejected;
            finished.rejection = Some(rejection.code().to_owned());
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match deps.store.finish_photo(&finished).await? {
        Recorded::New => {
            let outcome = finished.status.as_str();
            tracing::info!(photo_id = %photo.id, status = outcome, reason = finished.rejection.as_deref().unwrap_or(""), duration_ms = ms, "photo processed");
            shared::metrics::count(
                if finished.status == PhotoStatus::Ready { "ImagesProcessed" } else { "ImagesRejected" },
                &[],
            );
            shared::metrics::emit("ImageProcessingMs", shared::metrics::Unit::Milliseconds, ms, &[]);
        }
        Recorded::Duplicate => tracing::info!(photo_id = %photo.id, "finished concurrently by another delivery"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_arrive_form_urlencoded() {
        assert_eq!(decode_key("uploads%2Flistings%2Fa%2Fb"), "uploads/listings/a/b");
        assert_eq!(decode_key("uploads/with+space%2Bplus"), "uploads/with space+plus");
    }
}
