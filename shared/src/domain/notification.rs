//! In-app notifications: what the renter and the owner are told when a booking moves.
//! Derived from booking events alone, with the event id as the notification id, so a
//! redelivered event maps onto the same notifications and stores nothing twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::events::{kinds, DomainEvent};
use super::user::UserId;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// `{event id}-{renter|owner}`: unique per recipient, time-ordered (UUID v7 events).
    pub id: String,
    #[serde(skip)]
    pub user_id: UserId,
    /// The event that caused it, e.g. `booking.accepted`.
    #[serde(rename = "type")]
    pub kind: String,
    pub booking_id: String,
    pub text: String,
    pub read: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime<Utc>>,
}

/// What booking events carry for their consumers.
#[derive(Debug, Deserialize)]
pub struct BookingEventData {
    pub booking_id: String,
    pub listing_title: String,
    pub renter_id: String,
    pub owner_id: String,
    pub status: String,
}

/// The notifications `event` produces: one for the renter and one for the owner, or none for
/// events nobody is told about. A malformed booking event is an error (retried, then DLQ).
pub fn for_event(event: &DomainEvent) -> Result<Vec<Notification>, AppError> {
    if !event.kind.starts_with("booking.") {
        return Ok(Vec::new());
    }
    let data: BookingEventData = serde_json::from_value(event.data.clone())
        .map_err(|e| AppError::bad_request("invalid_event", format!("booking event {} lacks fields: {e}", event.id)))?;
    let title = &data.listing_title;
    let (renter_text, owner_text) = match event.kind.as_str() {
        kinds::BOOKING_REQUESTED if data.status == "requested" => (
            format!("Your booking request for \"{title}\" was sent; the owner has 24 hours to answer."),
            format!("New booking request for \"{title}\": accept or decline within 24 hours."),
        ),
        kinds::BOOKING_REQUESTED => (
            format!("Your booking of \"{title}\" is reserved: pay within 30 minutes to confirm it."),
            format!("\"{title}\" was booked; waiting for the renter's payment."),
        ),
        kinds::BOOKING_ACCEPTED => (
            format!("Your request for \"{title}\" was accepted: pay within 30 minutes to confirm it."),
            format!("You accepted the booking of \"{title}\"; waiting for the renter's payment."),
        ),
        kinds::BOOKING_DECLINED => {
            (format!("Your request for \"{title}\" was declined."), format!("You declined the booking of \"{title}\"."))
        }
        kinds::BOOKING_CONFIRMED => (
            format!("Your booking of \"{title}\" is confirmed."),
            format!("The booking of \"{title}\" is confirmed and paid."),
        ),
        kinds::BOOKING_CANCELLED => (
            format!("Your booking of \"{title}\" was cancelled."),
            format!("The booking of \"{title}\" was cancelled."),
        ),
        kinds::BOOKING_EXPIRED => (
            format!("Your booking of \"{title}\" expired before it was confirmed; the dates are free again."),
            format!("The booking of \"{title}\" expired; the dates are free again."),
        ),
        kinds::BOOKING_COMPLETED => (
            format!("Your rental of \"{title}\" is complete. Thanks!"),
            format!("The rental of \"{title}\" is complete."),
        ),
        _ => return Ok(Vec::new()),
    };
    let user = |raw: &str| {
        UserId::parse(raw).map_err(|_| {
            AppError::bad_request("invalid_event", format!("booking event {} has an invalid user id", event.id))
        })
    };
    let make = |user_id: UserId, role: &str, text: String| Notification {
        id: format!("{}-{role}", event.id),
        user_id,
        kind: event.kind.clone(),
        booking_id: data.booking_id.clone(),
        text,
        read: false,
        created_at: event.occurred_at,
        read_at: None,
    };
    Ok(vec![make(user(&data.renter_id)?, "renter", renter_text), make(user(&data.owner_id)?, "owner", owner_text)])
}

/// A notification id as sent in a path: `{uuid}-{renter|owner}`; anything else is not found.
pub fn parse_id(raw: &str) -> Result<String, AppError> {
    let ok = raw.rsplit_once('-').is_some_and(|(event, role)| {
        matches!(role, "renter" | "owner") && uuid::Uuid::try_parse(event).is_ok_and(|u| u.to_string() == event)
    });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(AppError::NotFound("notification"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, status: &str) -> DomainEvent {
        DomainEvent::new(
            kind,
            "booking/b1".into(),
            Some("u-renter".into()),
            Utc::now(),
            serde_json::json!({"booking_id": "b1", "listing_title": "Drill", "renter_id": "u-renter", "owner_id": "u-owner", "status": status}),
        )
    }

    #[test]
    fn each_move_tells_both_parties_once() {
        for kind in [
            kinds::BOOKING_REQUESTED,
            kinds::BOOKING_ACCEPTED,
            kinds::BOOKING_DECLINED,
            kinds::BOOKING_CONFIRMED,
            kinds::BOOKING_CANCELLED,
            kinds::BOOKING_EXPIRED,
            kinds::BOOKING_COMPLETED,
        ] {
            let e = event(kind, "requested");
            let ns = for_event(&e).unwrap();
            assert_eq!(ns.len(), 2, "{kind}");
            assert_eq!(ns[0].user_id.as_str(), "u-renter");
            assert_eq!(ns[1].user_id.as_str(), "u-owner");
            assert_eq!(ns[0].id, format!("{}-renter", e.id));
            assert!(ns.iter().all(|n| n.text.contains("Drill") && !n.read));
            // The same event gives the same ids: the store's conditional put dedupes.
            assert_eq!(
                for_event(&e).unwrap().iter().map(|n| n.id.clone()).collect::<Vec<_>>(),
                ns.iter().map(|n| n.id.clone()).collect::<Vec<_>>()
            );
        }
        assert!(for_event(&event("user.registered", "x")).unwrap().is_empty());
        let mut broken = event(kinds::BOOKING_ACCEPTED, "x");
        broken.data = serde_json::json!({"booking_id": "b1"});
        assert_eq!(for_event(&broken).unwrap_err().code(), "invalid_event");
    }

    #[test]
    fn ids_from_paths() {
        let id = format!("{}-owner", uuid::Uuid::now_v7());
        assert_eq!(parse_id(&id).unwrap(), id);
        for bad in ["", "x-owner", "0192d3f4-5a6b-7c8d-9e0f-112233445566-admin", "0192d3f4-5a6b-7c8d-9e0f-112233445566"]
        {
            assert_eq!(parse_id(bad).unwrap_err().status(), 404, "{bad}");
        }
    }
}
