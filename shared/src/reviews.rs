//! Reviews (decision 0038): each party writes blind; the second review publishes both at once,
//! and a scheduled task publishes whatever is left when the window closes.

use chrono::{DateTime, Utc};

use crate::bookings::visible_booking;
use crate::domain::booking::BookingId;
use crate::domain::events::{kinds, DomainEvent};
use crate::domain::review::{
    AnswerRequest, RemovalRequest, Review, ReviewId, ReviewStatus, WriteReviewRequest, OPERATORS_GROUP,
};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::identity::Caller;
use crate::ports::{BookingReader, ReviewStore};

/// `kind` about `r`, by its author, for its subject (they are told).
fn event(kind: &'static str, r: &Review, at: DateTime<Utc>) -> DomainEvent {
    event_to(kind, r, Some(&r.author_id), &r.subject_id, at, serde_json::Value::Null)
}

/// `kind` about `r` by `actor`, telling `recipient`, with `extra` fields (an object) in its data.
fn event_to(
    kind: &'static str,
    r: &Review,
    actor: Option<&UserId>,
    recipient: &UserId,
    at: DateTime<Utc>,
    extra: serde_json::Value,
) -> DomainEvent {
    let mut data = serde_json::json!({
        "review_id": r.id().to_string(),
        "booking_id": r.booking_id.as_str(),
        "listing_id": r.listing_id.as_str(),
        "listing_title": r.listing_title,
        "author_role": r.author_role,
        "rating": r.rating,
        "recipient_id": recipient.as_str(),
    });
    if let (Some(data), serde_json::Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    DomainEvent::new(kind, format!("booking/{}", r.booking_id), actor.map(UserId::to_string), at, data)
}

/// `caller` answers review `id` at `now` (the reviewed member, once, while it is public).
pub async fn answer<S: ReviewStore>(
    store: &S,
    id: &str,
    caller: &UserId,
    body: &AnswerRequest,
    now: DateTime<Utc>,
) -> Result<Review, AppError> {
    let id = ReviewId::parse(id)?;
    let answered = change_review(
        store,
        &id,
        |stored| stored.answered(caller, &body.text, now),
        |answered| {
            event_to(kinds::REVIEW_ANSWERED, answered, Some(caller), &answered.author_id, now, serde_json::Value::Null)
        },
    )
    .await?;
    tracing::info!(review_id = %id, "review answered");
    Ok(answered)
}

/// Operator `caller` removes review `id` for `reason` at `now`: its stars are taken back, its
/// author told, and the event (with the operator and the reason) is the audit record.
pub async fn remove<S: ReviewStore>(
    store: &S,
    id: &str,
    caller: &Caller,
    body: &RemovalRequest,
    now: DateTime<Utc>,
) -> Result<Review, AppError> {
    if !caller.is_in_group(OPERATORS_GROUP) {
        return Err(AppError::Forbidden);
    }
    let id = ReviewId::parse(id)?;
    let removed = change_review(
        store,
        &id,
        |stored| stored.removed(&caller.user_id, &body.reason, now),
        |removed| {
            let extra = serde_json::json!({ "reason": removed.removal.as_ref().map(|r| r.reason.as_str()) });
            event_to(kinds::REVIEW_REMOVED, removed, Some(&caller.user_id), &removed.author_id, now, extra)
        },
    )
    .await?;
    tracing::info!(review_id = %id, operator_id = %caller.user_id, "review removed");
    crate::metrics::count("ReviewsRemoved", &[]);
    Ok(removed)
}

/// Stores what `change` makes of review `id`, announced by `tell`, if the review is still as
/// read. One changed meanwhile (answered, removed) is judged again as stored now, so the caller
/// gets the reason it no longer applies; 503 if it would apply after all (a race to retry).
async fn change_review<S: ReviewStore>(
    store: &S,
    id: &ReviewId,
    change: impl Fn(&Review) -> Result<Review, AppError>,
    tell: impl Fn(&Review) -> DomainEvent,
) -> Result<Review, AppError> {
    let stored = store.get_review(id).await?.ok_or(AppError::NotFound("review"))?;
    let changed = change(&stored)?;
    if !store.update_review(&stored, &changed, &tell(&changed)).await? {
        let now_stored = store.get_review(id).await?.ok_or(AppError::NotFound("review"))?;
        change(&now_stored)?;
        return Err(AppError::Unavailable { dependency: "reviews".into() });
    }
    Ok(changed)
}

/// `caller` reviews the other party of booking `id` at `now`. Strangers get 404; a second
/// review by the same party 409. Written hidden, or, when the other party's is in, both
/// published at once.
pub async fn write<S>(
    store: &S,
    id: &BookingId,
    caller: &UserId,
    body: &WriteReviewRequest,
    now: DateTime<Utc>,
) -> Result<Review, AppError>
where
    S: BookingReader + ReviewStore,
{
    let (booking, party) = visible_booking(store, id, caller).await?;
    let mine = Review::write(&booking, party, body.rating, &body.text, now)?;
    // The other party may write at the same moment: the store refuses whichever write finds
    // the situation changed, and it is decided again from what is stored then.
    for _ in 0..3 {
        let stored = store.booking_reviews(id).await?;
        if stored.iter().any(|r| r.author_role == party) {
            return Err(AppError::conflict("already_reviewed", "you have reviewed this booking already"));
        }
        let outcome = match stored.into_iter().next() {
            Some(theirs) if theirs.status == ReviewStatus::Hidden => {
                let (mine, theirs) = (mine.clone().published(now), theirs.published(now));
                let events = [event(kinds::REVIEW_PUBLISHED, &theirs, now), event(kinds::REVIEW_PUBLISHED, &mine, now)];
                store.add_review(&mine, Some(&theirs), &events).await.map(|()| mine)
            }
            // Theirs went public when the window closed (by the task's clock): mine follows.
            Some(_) => {
                let mine = mine.clone().published(now);
                store.add_review(&mine, None, &[event(kinds::REVIEW_PUBLISHED, &mine, now)]).await.map(|()| mine)
            }
            None => {
                store.add_review(&mine, None, &[event(kinds::REVIEW_WRITTEN, &mine, now)]).await.map(|()| mine.clone())
            }
        };
        match outcome {
            Err(AppError::PreconditionFailed) => continue,
            Ok(review) => {
                tracing::info!(booking_id = %id, author_role = ?party, status = review.status.as_str(), "review written");
                crate::metrics::count("ReviewsWritten", &[("Status", review.status.as_str())]);
                return Ok(review);
            }
            Err(e) => return Err(e),
        }
    }
    Err(AppError::Unavailable { dependency: "reviews".into() })
}

/// Publishes up to `limit` reviews whose window closed by `now`: (due, published, skipped).
/// A review published meanwhile (the other party wrote, another run) is skipped, unchanged.
pub async fn publish_due<S: ReviewStore>(
    store: &S,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<(usize, usize, usize), AppError> {
    let due = store.due_reviews(now, limit).await?;
    let (mut published, mut skipped) = (0, 0);
    for (booking, role) in &due {
        let hidden = store
            .booking_reviews(booking)
            .await?
            .into_iter()
            .find(|r| r.author_role == *role && r.status == ReviewStatus::Hidden);
        let Some(review) = hidden else {
            skipped += 1;
            continue;
        };
        let review = review.published(now);
        // Published by the task, not by its author: no actor.
        let told = event_to(kinds::REVIEW_PUBLISHED, &review, None, &review.subject_id, now, serde_json::Value::Null);
        if store.publish_review(&review, &told).await? {
            tracing::info!(booking_id = %booking, author_role = ?role, "review published at the window's close");
            published += 1;
        } else {
            skipped += 1;
        }
    }
    if published > 0 {
        crate::metrics::emit("ReviewsPublishedAtClose", crate::metrics::Unit::Count, published as f64, &[]);
    }
    Ok((due.len(), published, skipped))
}
