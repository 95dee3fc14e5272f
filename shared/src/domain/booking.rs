//! Bookings: a renter holds a listing's days `[start, end)`; the owner answers; holds expire;
//! stays complete. The state machine is a table (`BookingStatus::after`), and every move is a
//! conditional write on the current status and version (see the DynamoDB adapter), so two
//! racing moves cannot both win.

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::listing::{BookingMode, Listing, ListingId, ListingStatus};
use super::money::Money;
use super::user::UserId;
use crate::error::{AppError, FieldError};

id_type!(
    /// A booking's id: a UUID v7 (time-ordered).
    BookingId,
    uuid "booking"
);

/// Days `[start, end)`: `end` is exclusive and always after `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    #[serde(rename = "start_date")]
    pub start: NaiveDate,
    #[serde(rename = "end_date")]
    pub end: NaiveDate,
}

/// The longest range anything in the system holds or blocks at once.
pub const MAX_RANGE_DAYS: i64 = 90;

impl DateRange {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, FieldError> {
        if end <= start {
            return Err(FieldError::new("end_date", "must be after start_date (the end date is exclusive)"));
        }
        Ok(Self { start, end })
    }

    /// `YYYY-MM-DD` strings as sent by clients, into a range.
    pub fn parse(start: &str, end: &str) -> Result<Self, AppError> {
        let date = |field: &str, raw: &str| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| FieldError::new(field, "must be a date as YYYY-MM-DD"))
        };
        let (s, e) = (date("start_date", start), date("end_date", end));
        match (s, e) {
            (Ok(s), Ok(e)) => Self::new(s, e).map_err(|f| AppError::Validation(vec![f])),
            (s, e) => Err(AppError::Validation([s.err(), e.err()].into_iter().flatten().collect())),
        }
    }

    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// Every day of the range, in order.
    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> {
        let start = self.start;
        (0..self.days()).map(move |i| start + Duration::days(i))
    }

    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Merges single days into sorted, non-overlapping ranges (for availability answers).
pub fn merge_days(mut days: Vec<NaiveDate>) -> Vec<DateRange> {
    days.sort_unstable();
    days.dedup();
    let mut out: Vec<DateRange> = Vec::new();
    for day in days {
        let next = day + Duration::days(1);
        match out.last_mut() {
            Some(last) if last.end == day => last.end = next,
            _ => out.push(DateRange { start: day, end: next }),
        }
    }
    out
}

/// What a booking costs, computed once at creation and stored: a later price change never
/// alters an existing booking. Integer minor units throughout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub days: i64,
    pub daily_price: i64,
    pub rental: i64,
    /// The service fee rate in basis points (1000 = 10%).
    pub service_fee_bps: i64,
    pub service_fee: i64,
    pub deposit: i64,
    pub total: i64,
    pub currency: super::money::Currency,
}

/// Default service fee: 10%.
pub const DEFAULT_SERVICE_FEE_BPS: i64 = 1_000;

impl Quote {
    /// `rental = days x daily`, `fee = rental x rate` rounded half-up to the minor unit,
    /// `total = rental + fee + deposit`. Overflow is refused, never wrapped.
    pub fn compute(days: i64, daily_price: Money, deposit: Money, service_fee_bps: i64) -> Result<Self, AppError> {
        let overflow = || AppError::bad_request("amount_too_large", "the total is too large to book");
        let rental = days.checked_mul(daily_price.amount).ok_or_else(overflow)?;
        let fee_numerator = rental.checked_mul(service_fee_bps).ok_or_else(overflow)?;
        // Half-up for non-negative amounts: add half the divisor before dividing.
        let service_fee = (fee_numerator + 5_000) / 10_000;
        let total = rental.checked_add(service_fee).and_then(|t| t.checked_add(deposit.amount)).ok_or_else(overflow)?;
        Ok(Quote {
            days,
            daily_price: daily_price.amount,
            rental,
            service_fee_bps,
            service_fee,
            deposit: deposit.amount,
            total,
            currency: daily_price.currency,
        })
    }
}

/// A listing's rules for a range, checked for quotes and bookings alike.
pub fn check_range(listing: &Listing, range: &DateRange, today: NaiveDate) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if range.start < today {
        errors.push(FieldError::new("start_date", "must not be in the past"));
    }
    if range.start > today + Duration::days(365) {
        errors.push(FieldError::new("start_date", "must be at most 365 days ahead"));
    }
    let days = range.days();
    if days < i64::from(listing.min_days) || days > i64::from(listing.max_days) {
        errors.push(FieldError::new(
            "end_date",
            format!("this listing rents for {} to {} days; this range is {days}", listing.min_days, listing.max_days),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

string_enum!(BookingStatus {
    Requested => "requested",
    PendingPayment => "pending_payment",
    Confirmed => "confirmed",
    Declined => "declined",
    Expired => "expired",
    Cancelled => "cancelled",
    Completed => "completed",
});

/// A move of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Accept,
    Decline,
    Expire,
    Cancel,
    ConfirmPayment,
    Complete,
}

impl BookingStatus {
    /// Whether a booking in this state keeps its days from everyone else.
    pub fn holds_dates(self) -> bool {
        matches!(self, BookingStatus::Requested | BookingStatus::PendingPayment | BookingStatus::Confirmed)
    }

    /// The 409 code for "not possible in this state": it names the state.
    fn conflict_code(self) -> &'static str {
        match self {
            BookingStatus::Requested => "booking_is_requested",
            BookingStatus::PendingPayment => "booking_is_pending_payment",
            BookingStatus::Confirmed => "booking_is_confirmed",
            BookingStatus::Declined => "booking_is_declined",
            BookingStatus::Expired => "booking_is_expired",
            BookingStatus::Cancelled => "booking_is_cancelled",
            BookingStatus::Completed => "booking_is_completed",
        }
    }

    /// The transition table: the state after `t`, or 409 naming the current state.
    pub fn after(self, t: Transition) -> Result<BookingStatus, AppError> {
        use BookingStatus::*;
        use Transition::*;
        let next = match (self, t) {
            (Requested, Accept) => PendingPayment,
            (Requested, Decline) => Declined,
            (Requested | PendingPayment, Expire) => Expired,
            (Requested | PendingPayment | Confirmed, Cancel) => Cancelled,
            (PendingPayment, ConfirmPayment) => Confirmed,
            (Confirmed, Complete) => Completed,
            _ => {
                return Err(AppError::conflict(
                    self.conflict_code(),
                    format!("a {} booking cannot be {}", self.as_str(), t.verb()),
                ))
            }
        };
        Ok(next)
    }
}

impl Transition {
    fn verb(self) -> &'static str {
        match self {
            Transition::Accept => "accepted",
            Transition::Decline => "declined",
            Transition::Expire => "expired",
            Transition::Cancel => "cancelled",
            Transition::ConfirmPayment => "confirmed",
            Transition::Complete => "completed",
        }
    }

    /// The event announcing the move.
    pub fn event_kind(self) -> &'static str {
        match self {
            Transition::Accept => super::events::kinds::BOOKING_ACCEPTED,
            Transition::Decline => super::events::kinds::BOOKING_DECLINED,
            Transition::Expire => super::events::kinds::BOOKING_EXPIRED,
            Transition::Cancel => super::events::kinds::BOOKING_CANCELLED,
            Transition::ConfirmPayment => super::events::kinds::BOOKING_CONFIRMED,
            Transition::Complete => super::events::kinds::BOOKING_COMPLETED,
        }
    }
}

/// How long a fresh hold lasts.
pub const REQUEST_HOLD: Duration = Duration::hours(24);
pub const PAYMENT_HOLD: Duration = Duration::minutes(30);

string_enum!(
    #[derive(Default)]
    PaymentStatus {
        /// No PaymentIntent yet.
        #[default]
        None => "none",
        /// An intent exists; the renter has not paid (yet).
        Pending => "pending",
        Succeeded => "succeeded",
        /// The last attempt failed; the booking stays payable until its hold lapses.
        Failed => "failed",
    }
);

string_enum!(
    #[derive(Default)]
    RefundStatus {
        #[default]
        None => "none",
        /// Asked of Stripe; `charge.refunded` confirms it.
        Requested => "requested",
        /// Stripe reported the money returned (`refunded_amount`).
        Refunded => "refunded",
    }
);

/// What the payment side recorded on a booking. Every field moves forward only (see the
/// payment worker), so duplicated, reordered or late Stripe events settle on one state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PaymentState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent_id: Option<String>,
    pub status: PaymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    pub refund_status: RefundStatus,
    /// What we asked Stripe to refund (minor units).
    pub refund_amount: i64,
    /// What Stripe reports refunded on the charge (minor units).
    pub refunded_amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// Stripe's status of an open or closed dispute (`needs_response`, `won`, `lost`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute_status: Option<String>,
    /// `created` of the dispute event applied last, so an older one never overwrites it.
    #[serde(skip)]
    pub dispute_event_at: i64,
    /// Why a person must look at this booking's money (e.g. `amount_mismatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
}

/// Who may act on a booking, and as what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// While the booking holds dates without being confirmed: when the hold lapses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<Party>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    pub payment: PaymentState,
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
        fee_bps: i64,
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
        let quote = Quote::compute(range.days(), listing.daily_price, listing.deposit, fee_bps)?;
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
            message,
            hold_expires_at: Some(now + hold),
            cancelled_by: None,
            cancel_reason: None,
            payment: PaymentState::default(),
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
    use crate::domain::money::{Currency, MoneyInput};
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
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
        let q = Quote::compute(3, money(1235, "EUR"), money(5000, "EUR"), DEFAULT_SERVICE_FEE_BPS).unwrap();
        assert_eq!((q.rental, q.service_fee, q.total), (3705, 371, 3705 + 371 + 5000));
        // Exactly half rounds up; below half rounds down.
        assert_eq!(Quote::compute(1, money(5, "EUR"), money(0, "EUR"), 1_000).unwrap().service_fee, 1);
        assert_eq!(Quote::compute(1, money(4, "EUR"), money(0, "EUR"), 1_000).unwrap().service_fee, 0);
        // JPY (0 decimals): 2 days x 4,999 = 9,998; 10% = 999.8 -> 1,000.
        let q = Quote::compute(2, money(4999, "JPY"), money(10000, "JPY"), 1_000).unwrap();
        assert_eq!(
            (q.rental, q.service_fee, q.total, q.currency),
            (9998, 1000, 20998, Currency::parse("JPY").unwrap())
        );
        // KWD (3 decimals): 7 days x 1.255 = 8.785; 12.5% = 1.098125 -> 1.098.
        let q = Quote::compute(7, money(1255, "KWD"), money(0, "KWD"), 1_250).unwrap();
        assert_eq!((q.rental, q.service_fee), (8785, 1098));
        // Valid prices cannot overflow; the guard still refuses what would wrap.
        let huge = Money { amount: i64::MAX / 10, currency: Currency::parse("EUR").unwrap() };
        assert_eq!(Quote::compute(90, huge, money(0, "EUR"), 1_000).unwrap_err().code(), "amount_too_large");
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
        let b = Booking::request(&listing("instant"), renter.clone(), range, None, now(), 1_000).unwrap();
        assert_eq!((b.status, b.hold_expires_at), (BookingStatus::PendingPayment, Some(now() + Duration::minutes(30))));
        assert_eq!(b.quote.total, 3000 + 300 + 2000);
        let b = Booking::request(&listing("request"), renter, range, Some("  hi  ".into()), now(), 1_000).unwrap();
        assert_eq!(
            (b.status, b.hold_expires_at, b.message.as_deref()),
            (BookingStatus::Requested, Some(now() + Duration::hours(24)), Some("hi"))
        );
        let l = listing("request");
        assert_eq!(
            Booking::request(&l, l.owner_id.clone(), range, None, now(), 1_000).unwrap_err().code(),
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
            (Confirmed, Complete, Completed),
        ];
        for from in BookingStatus::ALL {
            for t in [Accept, Decline, Expire, Cancel, ConfirmPayment, Complete] {
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
            assert_eq!(s.holds_dates(), matches!(s, Requested | PendingPayment | Confirmed), "{s:?}");
            assert_eq!(BookingStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn moves_bump_version_and_reset_holds() {
        let range = DateRange::new(d("2026-12-01"), d("2026-12-04")).unwrap();
        let b =
            Booking::request(&listing("request"), UserId::parse("renter").unwrap(), range, None, now(), 1_000).unwrap();
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
