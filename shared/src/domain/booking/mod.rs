//! Bookings: a renter holds a listing's days `[start, end)`; the owner answers; holds expire;
//! stays complete. The state machine is a table (`BookingStatus::after`), and every move is a
//! conditional write on the current status and version (see the DynamoDB adapter), so two
//! racing moves cannot both win.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::inquiry::InquiryId;
use crate::domain::listing::{BookingMode, Listing, ListingId, ListingStatus};
use crate::domain::user::UserId;
use crate::error::AppError;

mod dates;
mod handover;
mod payment_state;
mod policy;
mod quote;
mod status;

pub use dates::*;
pub use handover::*;
pub use payment_state::*;
pub use policy::*;
pub use quote::*;
pub use status::*;

id_type!(
    /// A booking's id: a UUID v7 (time-ordered).
    BookingId,
    uuid "booking"
);

/// Who may act on a booking, and as what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Renter,
    Owner,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Booking {
    pub id: BookingId,
    pub listing_id: ListingId,
    pub listing_title: String,
    pub owner_id: UserId,
    pub renter_id: UserId,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: BookingStatus,
    pub quote: Quote,
    /// The listing's policy when the booking was made.
    pub cancellation_policy: CancellationPolicy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The renter's inquiry about the listing this booking followed (decision 0041).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inquiry_id: Option<InquiryId>,
    /// While the booking holds dates without being confirmed: when the hold lapses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<Party>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    pub payment: PaymentState,
    pub handover: Handover,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// `POST /bookings` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingRequest {
    pub listing_id: String,
    pub start_date: String,
    pub end_date: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// A date range as sent (quotes, blocks).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeRequest {
    pub start_date: String,
    pub end_date: String,
}

/// `POST /bookings/{id}/cancel` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: String,
}

pub const MAX_MESSAGE_CHARS: usize = 1_000;

impl Booking {
    /// A new booking of `listing` by `renter`, holding its days: `instant` listings go to
    /// payment (30 min hold), `request` listings wait for the owner (24 h hold).
    pub fn request(
        listing: &Listing,
        renter: UserId,
        range: DateRange,
        message: Option<String>,
        now: DateTime<Utc>,
        pricing: Pricing,
    ) -> Result<Self, AppError> {
        if listing.owner_id == renter {
            return Err(AppError::conflict("own_listing", "you cannot book your own listing"));
        }
        if listing.status != ListingStatus::Active {
            return Err(AppError::conflict("listing_unavailable", "this listing is not taking bookings"));
        }
        let message = message.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
        if message
            .as_ref()
            .is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS || m.chars().any(|c| c.is_control() && c != '\n'))
        {
            return Err(AppError::field("message", format!("must be at most {MAX_MESSAGE_CHARS} characters")));
        }
        let now = now.trunc_subsecs(3);
        check_range(listing, &range, now.date_naive())?;
        let quote = Quote::compute(range.days(), listing.daily_price, listing.deposit, pricing)?;
        let (status, hold) = match listing.booking_mode {
            BookingMode::Instant => (BookingStatus::PendingPayment, PAYMENT_HOLD),
            BookingMode::Request => (BookingStatus::Requested, REQUEST_HOLD),
        };
        Ok(Booking {
            id: BookingId::generate(),
            listing_id: listing.id.clone(),
            listing_title: listing.title.clone(),
            owner_id: listing.owner_id.clone(),
            renter_id: renter,
            start_date: range.start,
            end_date: range.end,
            status,
            quote,
            cancellation_policy: listing.cancellation_policy,
            message,
            inquiry_id: None,
            hold_expires_at: Some(now + hold),
            cancelled_by: None,
            cancel_reason: None,
            payment: PaymentState::default(),
            handover: Handover::new()?,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    pub fn range(&self) -> DateRange {
        DateRange { start: self.start_date, end: self.end_date }
    }

    /// The caller's part in this booking, if any. Others get 404 (not 403).
    pub fn party(&self, user: &UserId) -> Option<Party> {
        if *user == self.renter_id {
            Some(Party::Renter)
        } else if *user == self.owner_id {
            Some(Party::Owner)
        } else {
            None
        }
    }

    /// Who `party` deals with in this booking: the owner for the renter, and back.
    pub fn other_party(&self, party: Party) -> &UserId {
        match party {
            Party::Renter => &self.owner_id,
            Party::Owner => &self.renter_id,
        }
    }

    /// This booking after `t` at `now`: new status, version + 1, and a fresh hold when it
    /// moves on to payment; no hold once it stops holding days or is confirmed.
    pub fn moved(&self, t: Transition, now: DateTime<Utc>) -> Result<Self, AppError> {
        let status = self.status.after(t)?;
        let now = now.trunc_subsecs(3);
        let mut next = self.clone();
        next.status = status;
        next.hold_expires_at = match status {
            BookingStatus::PendingPayment => Some(now + PAYMENT_HOLD),
            _ => None,
        };
        next.updated_at = now;
        next.version = self.version + 1;
        Ok(next)
    }

    /// Whether the hold has lapsed at `now` (the expiry task's rule).
    pub fn hold_lapsed(&self, now: DateTime<Utc>) -> bool {
        self.hold_expires_at.is_some_and(|at| at <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::{Currency, Money, MoneyInput};
    use chrono::Duration;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn fee(service_fee_bps: i64) -> Pricing {
        Pricing { service_fee_bps, owner_commission_bps: 300 }
    }

    fn money(amount: i64, currency: &str) -> Money {
        Money::parse("x", &MoneyInput { amount, currency: currency.into() }, 0).unwrap()
    }

    #[test]
    fn ranges_cannot_be_inverted_or_empty() {
        assert!(DateRange::new(d("2026-12-02"), d("2026-12-01")).is_err());
        assert!(DateRange::new(d("2026-12-01"), d("2026-12-01")).is_err());
        let r = DateRange::new(d("2026-12-30"), d("2027-01-02")).unwrap();
        assert_eq!(r.days(), 3);
        assert_eq!(r.each_day().collect::<Vec<_>>(), vec![d("2026-12-30"), d("2026-12-31"), d("2027-01-01")]);
        assert!(matches!(DateRange::parse("2026-13-01", "x"), Err(AppError::Validation(e)) if e.len() == 2));
        assert!(r.overlaps(&DateRange::new(d("2027-01-01"), d("2027-01-05")).unwrap()));
        assert!(!r.overlaps(&DateRange::new(d("2027-01-02"), d("2027-01-05")).unwrap()), "end is exclusive");
    }

    #[test]
    fn merging_days() {
        let merged =
            merge_days(vec![d("2026-12-05"), d("2026-12-01"), d("2026-12-02"), d("2026-12-02"), d("2026-12-04")]);
        assert_eq!(
            merged,
            vec![
                DateRange { start: d("2026-12-01"), end: d("2026-12-03") },
                DateRange { start: d("2026-12-04"), end: d("2026-12-06") }
            ]
        );
        assert!(merge_days(vec![]).is_empty());
    }

    #[test]
    fn quote_maths_in_minor_units() {
        // EUR (2 decimals): 3 days x 12.35 = 37.05; 10% = 3.705 -> 3.71 (half-up).
        let q = Quote::compute(3, money(1235, "EUR"), money(5000, "EUR"), Pricing::default()).unwrap();
        assert_eq!((q.rental, q.service_fee, q.total, q.deposit), (3705, 371, 3705 + 371, 5000), "deposit held apart");
        assert_eq!(q.deposit_charged(), 0);
        // Exactly half rounds up; below half rounds down.
        assert_eq!(Quote::compute(1, money(5, "EUR"), money(0, "EUR"), fee(1_000)).unwrap().service_fee, 1);
        assert_eq!(Quote::compute(1, money(4, "EUR"), money(0, "EUR"), fee(1_000)).unwrap().service_fee, 0);
        // JPY (0 decimals): 2 days x 4,999 = 9,998; 10% = 999.8 -> 1,000.
        let q = Quote::compute(2, money(4999, "JPY"), money(10000, "JPY"), fee(1_000)).unwrap();
        assert_eq!(
            (q.rental, q.service_fee, q.total, q.currency),
            (9998, 1000, 10998, Currency::parse("JPY").unwrap())
        );
        // KWD (3 decimals): 7 days x 1.255 = 8.785; 12.5% = 1.098125 -> 1.098.
        let q = Quote::compute(7, money(1255, "KWD"), money(0, "KWD"), fee(1_250)).unwrap();
        assert_eq!((q.rental, q.service_fee), (8785, 1098));
        // Valid prices cannot overflow; the guard still refuses what would wrap.
        let huge = Money { amount: i64::MAX / 10, currency: Currency::parse("EUR").unwrap() };
        assert_eq!(Quote::compute(90, huge, money(0, "EUR"), fee(1_000)).unwrap_err().code(), "amount_too_large");
    }

    fn listing(mode: &str) -> Listing {
        Listing::create(
            serde_json::from_value(serde_json::json!({
                "title": "Drill", "category": "tools", "location": {"city": "Berlin", "country": "DE"},
                "daily_price": {"amount": 1000, "currency": "EUR"}, "deposit": {"amount": 2000, "currency": "EUR"},
                "min_days": 2, "max_days": 10, "booking_mode": mode, "status": "active"
            }))
            .unwrap(),
            UserId::parse("owner").unwrap(),
            Utc::now(),
        )
        .unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }

    fn fields(err: AppError) -> Vec<String> {
        match err {
            AppError::Validation(e) => e.into_iter().map(|f| f.field).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn date_rules() {
        let l = listing("instant");
        let today = now().date_naive();
        let range = |s: &str, e: &str| DateRange::new(d(s), d(e)).unwrap();
        assert!(check_range(&l, &range("2026-11-21", "2026-11-23"), today).is_ok(), "today is bookable");
        assert_eq!(fields(check_range(&l, &range("2026-11-20", "2026-11-23"), today).unwrap_err()), vec!["start_date"]);
        assert!(check_range(&l, &range("2027-11-21", "2027-11-23"), today).is_ok(), "365 days ahead");
        assert_eq!(fields(check_range(&l, &range("2027-11-22", "2027-11-24"), today).unwrap_err()), vec!["start_date"]);
        assert_eq!(
            fields(check_range(&l, &range("2026-12-01", "2026-12-02"), today).unwrap_err()),
            vec!["end_date"],
            "below min_days"
        );
        assert_eq!(
            fields(check_range(&l, &range("2026-12-01", "2026-12-12"), today).unwrap_err()),
            vec!["end_date"],
            "above max_days"
        );
    }

    #[test]
    fn new_bookings_hold_by_mode() {
        let range = DateRange::new(d("2026-12-01"), d("2026-12-04")).unwrap();
        let renter = UserId::parse("renter").unwrap();
        let b = Booking::request(&listing("instant"), renter.clone(), range, None, now(), Pricing::default()).unwrap();
        assert_eq!((b.status, b.hold_expires_at), (BookingStatus::PendingPayment, Some(now() + Duration::minutes(30))));
        assert_eq!((b.quote.total, b.quote.deposit), (3000 + 300, 2000));
        let b = Booking::request(&listing("request"), renter, range, Some("  hi  ".into()), now(), Pricing::default())
            .unwrap();
        assert_eq!(
            (b.status, b.hold_expires_at, b.message.as_deref()),
            (BookingStatus::Requested, Some(now() + Duration::hours(24)), Some("hi"))
        );
        let l = listing("request");
        assert_eq!(
            Booking::request(&l, l.owner_id.clone(), range, None, now(), Pricing::default()).unwrap_err().code(),
            "own_listing"
        );
    }

    #[test]
    fn transition_table_is_exhaustive() {
        use BookingStatus::*;
        use Transition::*;
        let allowed = [
            (Requested, Accept, PendingPayment),
            (Requested, Decline, Declined),
            (Requested, Expire, Expired),
            (Requested, Cancel, Cancelled),
            (PendingPayment, ConfirmPayment, Confirmed),
            (PendingPayment, Expire, Expired),
            (PendingPayment, Cancel, Cancelled),
            (Confirmed, Cancel, Cancelled),
            (Confirmed, PickUp, InProgress),
            (Confirmed, Complete, Completed),
            (InProgress, Return, Returned),
            (Returned, Complete, Completed),
        ];
        for from in BookingStatus::ALL {
            for t in [Accept, Decline, Expire, Cancel, ConfirmPayment, PickUp, Return, Complete] {
                match allowed.iter().find(|(f, tr, _)| *f == from && *tr == t) {
                    Some((_, _, to)) => assert_eq!(from.after(t).unwrap(), *to, "{from:?} {t:?}"),
                    None => {
                        let err = from.after(t).unwrap_err();
                        assert_eq!(err.status(), 409, "{from:?} {t:?}");
                        assert_eq!(
                            err.code(),
                            format!("booking_is_{}", from.as_str()),
                            "the code names the current state"
                        );
                    }
                }
            }
        }
        for s in BookingStatus::ALL {
            assert_eq!(s.holds_dates(), matches!(s, Requested | PendingPayment | Confirmed | InProgress), "{s:?}");
            assert_eq!(s.is_paid_stay(), matches!(s, Confirmed | InProgress | Returned | Completed), "{s:?}");
            assert_eq!(BookingStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn moves_bump_version_and_reset_holds() {
        let range = DateRange::new(d("2026-12-01"), d("2026-12-04")).unwrap();
        let b = Booking::request(
            &listing("request"),
            UserId::parse("renter").unwrap(),
            range,
            None,
            now(),
            Pricing::default(),
        )
        .unwrap();
        let later = now() + Duration::hours(2);
        let accepted = b.moved(Transition::Accept, later).unwrap();
        assert_eq!(
            (accepted.status, accepted.version, accepted.hold_expires_at),
            (BookingStatus::PendingPayment, 2, Some(later + PAYMENT_HOLD))
        );
        let confirmed = accepted.moved(Transition::ConfirmPayment, later).unwrap();
        assert_eq!(confirmed.hold_expires_at, None);
        assert!(b.hold_lapsed(now() + Duration::hours(24)));
        assert!(!b.hold_lapsed(now() + Duration::hours(23)));
    }
}
