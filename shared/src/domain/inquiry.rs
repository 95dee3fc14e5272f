//! Inquiries: a would-be renter's questions to a listing's owner before any booking (decision
//! 0041). One open inquiry per renter and listing; the renter's next booking of that listing
//! adopts it (the booking names it, it names the booking) and it takes no more messages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::booking::{BookingId, Party};
use super::listing::{Listing, ListingId, ListingStatus};
use super::user::UserId;
use crate::error::AppError;

id_type!(
    /// An inquiry's id: a UUID v7, like a booking's (a thread is keyed by either).
    InquiryId,
    uuid "inquiry"
);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inquiry {
    pub id: InquiryId,
    pub listing_id: ListingId,
    pub listing_title: String,
    pub owner_id: UserId,
    pub renter_id: UserId,
    pub opened_at: DateTime<Utc>,
    /// The booking that adopted it; from then on it is read-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<BookingId>,
}

/// `POST /listings/{id}/inquiries` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InquiryRequest {
    pub message: String,
}

impl Inquiry {
    /// A new inquiry of `renter` about `listing`: not one's own, and only while it is active.
    pub fn open(listing: &Listing, renter: &UserId, now: DateTime<Utc>) -> Result<Self, AppError> {
        if &listing.owner_id == renter {
            return Err(AppError::conflict("own_listing", "you cannot send an inquiry about your own listing"));
        }
        if listing.status != ListingStatus::Active {
            return Err(AppError::conflict("listing_unavailable", "this listing is not taking bookings"));
        }
        Ok(Inquiry {
            id: InquiryId::generate(),
            listing_id: listing.id.clone(),
            listing_title: listing.title.clone(),
            owner_id: listing.owner_id.clone(),
            renter_id: renter.clone(),
            opened_at: chrono::SubsecRound::trunc_subsecs(now, 3),
            booking_id: None,
        })
    }

    /// What `user` is in this inquiry, if anything.
    pub fn party(&self, user: &UserId) -> Option<Party> {
        if user == &self.renter_id {
            Some(Party::Renter)
        } else if user == &self.owner_id {
            Some(Party::Owner)
        } else {
            None
        }
    }

    /// Who `party` writes to.
    pub fn other(&self, party: Party) -> &UserId {
        match party {
            Party::Renter => &self.owner_id,
            Party::Owner => &self.renter_id,
        }
    }

    /// Refuses a message once a booking has adopted the inquiry: the talk goes on there.
    pub fn check_open(&self) -> Result<(), AppError> {
        match &self.booking_id {
            Some(b) => Err(AppError::conflict(
                "inquiry_booked",
                format!("this inquiry led to booking {b}; write in that booking's thread"),
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(status: &str) -> Listing {
        let request = serde_json::from_value(serde_json::json!({
            "title": "Drill", "category": "tools", "location": {"city": "Lyon", "country": "FR"},
            "daily_price": {"amount": 1500, "currency": "EUR"}, "deposit": {"amount": 5000, "currency": "EUR"},
            "min_days": 1, "max_days": 14, "booking_mode": "request", "status": status
        }))
        .unwrap();
        Listing::create(request, UserId::parse("owner-1").unwrap(), Utc::now()).unwrap()
    }

    #[test]
    fn opened_by_others_on_active_listings_and_closed_by_a_booking() {
        let renter = UserId::parse("renter-1").unwrap();
        let mut inquiry = Inquiry::open(&listing("active"), &renter, Utc::now()).unwrap();
        assert_eq!(inquiry.party(&renter), Some(Party::Renter));
        assert_eq!(inquiry.other(Party::Renter).as_str(), "owner-1");
        assert_eq!(inquiry.party(&UserId::parse("stranger").unwrap()), None);
        assert!(inquiry.check_open().is_ok());
        inquiry.booking_id = Some(BookingId::generate());
        assert_eq!(inquiry.check_open().unwrap_err().status(), 409);
        let owner = UserId::parse("owner-1").unwrap();
        assert_eq!(Inquiry::open(&listing("active"), &owner, Utc::now()).unwrap_err().status(), 409);
        assert_eq!(Inquiry::open(&listing("draft"), &renter, Utc::now()).unwrap_err().status(), 409);
    }
}
