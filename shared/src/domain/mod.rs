//! Types and rules. Everything here is parsed once at the edge and valid thereafter.

#[macro_use]
mod macros;

pub mod booking;
pub mod country;
pub mod events;
pub mod listing;
pub mod listing_query;
pub mod message;
pub mod money;
pub mod notification;
pub mod payment;
pub mod payout;
pub mod payout_account;
pub mod photo;
pub mod search;
pub mod search_index;
pub mod user;

use chrono::{DateTime, Utc};

/// Wall-clock time, injectable so rules that depend on "now" can be tested.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
