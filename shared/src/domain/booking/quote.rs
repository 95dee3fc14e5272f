//! What a booking costs, and the listing's rules for a range.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::*;
use crate::domain::listing::Listing;
use crate::domain::money::Money;
use crate::error::{AppError, FieldError};

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
    /// The platform's commission on the rental, in basis points (300 = 3%): the owner's share
    /// is the rental less it (`domain::payout`).
    pub owner_commission_bps: i64,
    /// Held on the renter's card around the stay, not charged (decision 0040).
    pub deposit: i64,
    /// What the renter pays to book: the rental and the service fee.
    pub total: i64,
    pub currency: crate::domain::money::Currency,
}

impl Quote {
    /// The part of `total` that is the deposit: none since decision 0040; bookings made before
    /// it were charged the deposit with the rental (`total = rental + fee + deposit`).
    pub fn deposit_charged(&self) -> i64 {
        (self.total - self.rental - self.service_fee).max(0)
    }
}

/// Default service fee: 10%.
pub const DEFAULT_SERVICE_FEE_BPS: i64 = 1_000;

/// The platform's rates, from configuration: the renter's service fee and the owner's
/// commission, in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pricing {
    pub service_fee_bps: i64,
    pub owner_commission_bps: i64,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            service_fee_bps: DEFAULT_SERVICE_FEE_BPS,
            owner_commission_bps: crate::domain::payout::DEFAULT_OWNER_COMMISSION_BPS,
        }
    }
}

impl Quote {
    /// `rental = days x daily`, `fee = rental x rate` rounded half-up to the minor unit,
    /// `total = rental + fee` (the deposit is held, not charged). Overflow is refused, never
    /// wrapped.
    pub fn compute(days: i64, daily_price: Money, deposit: Money, pricing: Pricing) -> Result<Self, AppError> {
        let service_fee_bps = pricing.service_fee_bps;
        let overflow = || AppError::bad_request("amount_too_large", "the total is too large to book");
        let rental = days.checked_mul(daily_price.amount).ok_or_else(overflow)?;
        let fee_numerator = rental.checked_mul(service_fee_bps).ok_or_else(overflow)?;
        // Half-up for non-negative amounts: add half the divisor before dividing.
        let service_fee = (fee_numerator + 5_000) / 10_000;
        let total = rental.checked_add(service_fee).ok_or_else(overflow)?;
        Ok(Quote {
            days,
            daily_price: daily_price.amount,
            rental,
            service_fee_bps,
            service_fee,
            owner_commission_bps: pricing.owner_commission_bps,
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
