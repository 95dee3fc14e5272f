//! Reviews (decision 0038). Once a stay is returned or completed, each party may review the
//! other once, within 14 days: the renter rates the listing and its owner, the owner rates the
//! renter. Blind: a review stays hidden until both have written theirs or the window closes, so
//! neither can answer the other's in kind.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::booking::{Booking, BookingId, BookingStatus, Party};
use crate::domain::listing::ListingId;
use crate::domain::user::UserId;
use crate::error::{AppError, FieldError};

/// How long after the stay's end (its return, or its end date) the parties may review.
pub const REVIEW_WINDOW: Duration = Duration::days(14);
pub const MAX_REVIEW_CHARS: usize = 2_000;
pub const MAX_ANSWER_CHARS: usize = 1_000;
pub const MAX_REMOVAL_REASON_CHARS: usize = 500;
/// The identity provider's group whose members moderate (hide reviews).
pub const OPERATORS_GROUP: &str = "operators";

string_enum!(
    /// Hidden until both parties wrote theirs or the window closed; then published.
    ReviewStatus {
        Hidden => "hidden",
        Published => "published",
        /// Hidden by an operator for breaking the rules; its stars are taken back.
        Removed => "removed",
    }
);

/// A review's id: its booking and its author's role, `{booking id}.{renter|owner}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewId {
    pub booking_id: BookingId,
    pub author_role: Party,
}

impl ReviewId {
    /// Anything but a booking id, a dot and a role is `NotFound` (ids are never guessed at).
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let (booking, role) = raw.rsplit_once('.').ok_or(AppError::NotFound("review"))?;
        let author_role = match role {
            "renter" => Party::Renter,
            "owner" => Party::Owner,
            _ => return Err(AppError::NotFound("review")),
        };
        let booking_id = BookingId::parse(booking).map_err(|_| AppError::NotFound("review"))?;
        Ok(ReviewId { booking_id, author_role })
    }
}

impl std::fmt::Display for ReviewId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let role = match self.author_role {
            Party::Renter => "renter",
            Party::Owner => "owner",
        };
        write!(f, "{}.{role}", self.booking_id)
    }
}

/// The reviewed member's public answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub text: String,
    pub answered_at: DateTime<Utc>,
}

/// Why and by whom a review was removed (never shown publicly; the audit trail has it too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Removal {
    pub reason: String,
    pub operator_id: UserId,
    pub removed_at: DateTime<Utc>,
}

/// A free text of 1 to `max` characters after trimming, no control characters but line
/// breaks and tabs.
fn text_field(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(text.to_owned())
}

/// `POST /bookings/{id}/reviews` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteReviewRequest {
    pub rating: i64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub booking_id: BookingId,
    pub listing_id: ListingId,
    pub listing_title: String,
    pub author_id: UserId,
    /// As what the author wrote: a renter reviews the listing and its owner, an owner the renter.
    pub author_role: Party,
    /// The member reviewed (the owner, or the renter).
    pub subject_id: UserId,
    /// 1 to 5 stars.
    pub rating: u8,
    pub text: String,
    pub status: ReviewStatus,
    pub written_at: DateTime<Utc>,
    pub window_closes_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    #[serde(skip)]
    pub removal: Option<Removal>,
}

/// `POST /reviews/{id}/answer` and `POST /reviews/{id}/removal` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovalRequest {
    pub reason: String,
}

/// When the parties of `booking` may review each other: from the return (or the end date, for
/// a stay that was never handed over) for 14 days. `None` until the stay is returned or completed.
pub fn review_window(booking: &Booking) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if !matches!(booking.status, BookingStatus::Returned | BookingStatus::Completed) {
        return None;
    }
    let opens = booking.handover.returned_at.unwrap_or_else(|| booking.ends_at());
    Some((opens, opens + REVIEW_WINDOW))
}

impl Review {
    /// `author`'s review of the other party of `booking` at `now`, hidden. Refused before the
    /// stay is returned or completed, after the window, and for a rating or text out of bounds.
    pub fn write(
        booking: &Booking,
        author: Party,
        rating: i64,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        let Some((_, closes)) = review_window(booking) else {
            return Err(AppError::Conflict {
                code: "booking_not_finished",
                message: "reviews open once the item is returned (or the booking completed)".into(),
            });
        };
        if now >= closes {
            return Err(AppError::Conflict {
                code: "review_window_closed",
                message: format!("reviews for this booking closed at {}", closes.to_rfc3339()),
            });
        }
        let mut problems = Vec::new();
        if !(1..=5).contains(&rating) {
            problems.push(FieldError::new("rating", "must be a whole number of stars from 1 to 5"));
        }
        let text = text_field("text", text, MAX_REVIEW_CHARS).map_err(|e| problems.push(e)).unwrap_or_default();
        if !problems.is_empty() {
            return Err(AppError::Validation(problems));
        }
        let subject_id = match author {
            Party::Renter => booking.owner_id.clone(),
            Party::Owner => booking.renter_id.clone(),
        };
        let author_id = match author {
            Party::Renter => booking.renter_id.clone(),
            Party::Owner => booking.owner_id.clone(),
        };
        Ok(Review {
            booking_id: booking.id.clone(),
            listing_id: booking.listing_id.clone(),
            listing_title: booking.listing_title.clone(),
            author_id,
            author_role: author,
            subject_id,
            rating: u8::try_from(rating).map_err(AppError::internal)?,
            text,
            status: ReviewStatus::Hidden,
            written_at: now,
            window_closes_at: closes,
            published_at: None,
            answer: None,
            removal: None,
        })
    }

    pub fn id(&self) -> ReviewId {
        ReviewId { booking_id: self.booking_id.clone(), author_role: self.author_role }
    }

    /// `by` answers the review at `now`: only its subject, once, and only while it is public
    /// (a hidden or removed review is `NotFound`, as the public sees it).
    pub fn answered(&self, by: &UserId, text: &str, now: DateTime<Utc>) -> Result<Self, AppError> {
        if self.status != ReviewStatus::Published {
            return Err(AppError::NotFound("review"));
        }
        if *by != self.subject_id {
            return Err(AppError::Forbidden);
        }
        if self.answer.is_some() {
            return Err(AppError::conflict("already_answered", "you have answered this review already"));
        }
        let text = text_field("text", text, MAX_ANSWER_CHARS).map_err(|e| AppError::Validation(vec![e]))?;
        Ok(Review { answer: Some(Answer { text, answered_at: now }), ..self.clone() })
    }

    /// Operator `by` removes the published review for `reason` at `now`.
    pub fn removed(&self, by: &UserId, reason: &str, now: DateTime<Utc>) -> Result<Self, AppError> {
        let reason =
            text_field("reason", reason, MAX_REMOVAL_REASON_CHARS).map_err(|e| AppError::Validation(vec![e]))?;
        match self.status {
            ReviewStatus::Published => {}
            ReviewStatus::Removed => return Err(AppError::conflict("review_removed", "the review is removed already")),
            ReviewStatus::Hidden => {
                return Err(AppError::conflict("review_not_published", "only published reviews can be removed"))
            }
        }
        let removal = Removal { reason, operator_id: by.clone(), removed_at: now };
        Ok(Review { status: ReviewStatus::Removed, removal: Some(removal), ..self.clone() })
    }

    /// The review made public at `now`.
    pub fn published(mut self, now: DateTime<Utc>) -> Self {
        self.status = ReviewStatus::Published;
        self.published_at = Some(now);
        self
    }

    /// The listing this review rates: the renter's review rates the listing it booked.
    pub fn rated_listing(&self) -> Option<&ListingId> {
        (self.author_role == Party::Renter).then_some(&self.listing_id)
    }
}

/// Reviews' average (to two decimals) and count, as shown; `None` and 0 until a published
/// review exists.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rating {
    pub average: Option<f64>,
    pub count: u64,
}

impl Rating {
    pub fn of(totals: RatingTotals) -> Self {
        Rating { average: totals.average(), count: totals.count }
    }
}

/// The sum and count of a listing's or a member's published ratings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RatingTotals {
    pub sum: u64,
    pub count: u64,
}

impl RatingTotals {
    /// The mean to two decimals; `None` without ratings.
    pub fn average(self) -> Option<f64> {
        (self.count > 0).then(|| (self.sum as f64 / self.count as f64 * 100.0).round() / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::Transition;
    use crate::testing::confirmed_booking;

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().to_utc()
    }

    fn returned() -> Booking {
        // 2026-12-01 to 2026-12-04, picked up on the first day, returned on the 3rd at noon.
        let b = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        let b = b.moved(Transition::PickUp, at("2026-12-01T09:00:00Z")).unwrap();
        let mut b = b.moved(Transition::Return, at("2026-12-03T12:00:00Z")).unwrap();
        b.handover.returned_at = Some(at("2026-12-03T12:00:00Z"));
        b
    }

    #[test]
    fn the_window_opens_at_the_return_for_fourteen_days() {
        let b = returned();
        let (opens, closes) = review_window(&b).unwrap();
        assert_eq!((opens, closes), (at("2026-12-03T12:00:00Z"), at("2026-12-17T12:00:00Z")));
        let r = Review::write(&b, Party::Renter, 5, "  Great drill ", at("2026-12-17T11:59:59Z")).unwrap();
        assert_eq!((r.subject_id.as_str(), r.text.as_str(), r.status), ("owner", "Great drill", ReviewStatus::Hidden));
        assert_eq!(r.rated_listing(), Some(&b.listing_id));
        let err = Review::write(&b, Party::Owner, 5, "ok", closes).unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: "review_window_closed", .. }), "{err:?}");
        let o = Review::write(&b, Party::Owner, 4, "Careful renter", opens).unwrap();
        assert_eq!((o.subject_id.as_str(), o.rated_listing()), ("renter", None));
    }

    #[test]
    fn not_before_the_return_and_never_out_of_bounds() {
        let b = confirmed_booking("2026-12-01", 3, 1000).unwrap();
        let err = Review::write(&b, Party::Renter, 5, "early", at("2026-12-02T00:00:00Z")).unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: "booking_not_finished", .. }), "{err:?}");
        let b = returned();
        let now = at("2026-12-04T00:00:00Z");
        for (rating, text) in [(0, "x"), (6, "x"), (3, " "), (3, "bad\u{0}byte")] {
            assert_eq!(
                Review::write(&b, Party::Renter, rating, text, now).unwrap_err().status(),
                400,
                "{rating} {text:?}"
            );
        }
        let long = "a".repeat(MAX_REVIEW_CHARS + 1);
        assert_eq!(Review::write(&b, Party::Renter, 3, &long, now).unwrap_err().status(), 400);
        assert!(Review::write(&b, Party::Renter, 3, &long[1..], now).is_ok());
    }

    #[test]
    fn ids_round_trip_and_nothing_else_parses() {
        let b = returned();
        let id = Review::write(&b, Party::Owner, 3, "ok", at("2026-12-04T00:00:00Z")).unwrap().id();
        assert_eq!(ReviewId::parse(&id.to_string()).unwrap(), id);
        for bad in ["", "x.renter", &format!("{}.guest", b.id), &format!("{}", b.id)] {
            assert!(matches!(ReviewId::parse(bad), Err(AppError::NotFound("review"))), "{bad}");
        }
    }

    #[test]
    fn the_subject_answers_once_and_operators_remove_published_reviews() {
        let b = returned();
        let now = at("2026-12-04T00:00:00Z");
        let r = Review::write(&b, Party::Renter, 2, "Blade was blunt", now).unwrap();
        let owner = b.owner_id.clone();
        assert_eq!(r.answered(&owner, "Sorry", now).unwrap_err().status(), 404, "hidden: not there");
        let r = r.published(now);
        assert_eq!(r.answered(&b.renter_id, "Me again", now).unwrap_err().status(), 403, "the subject only");
        assert_eq!(r.answered(&owner, &"a".repeat(MAX_ANSWER_CHARS + 1), now).unwrap_err().status(), 400);
        let answered = r.answered(&owner, " Sharpened it since ", now).unwrap();
        assert_eq!(answered.answer.as_ref().map(|a| a.text.as_str()), Some("Sharpened it since"));
        assert_eq!(answered.answered(&owner, "Twice", now).unwrap_err().status(), 409);
        let op = UserId::parse("op-1").unwrap();
        assert_eq!(answered.removed(&op, " ", now).unwrap_err().status(), 400, "a reason is required");
        let removed = answered.removed(&op, "Personal data", now).unwrap();
        assert_eq!(
            (removed.status, removed.removal.as_ref().map(|x| x.reason.as_str())),
            (ReviewStatus::Removed, Some("Personal data"))
        );
        assert_eq!(removed.removed(&op, "Again", now).unwrap_err().status(), 409);
        assert_eq!(removed.answered(&owner, "Hello?", now).unwrap_err().status(), 404);
    }

    #[test]
    fn averages_to_two_decimals() {
        assert_eq!(RatingTotals::default().average(), None);
        assert_eq!(RatingTotals { sum: 14, count: 3 }.average(), Some(4.67));
    }
}
