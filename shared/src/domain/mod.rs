//! Types and rules. Everything here is parsed once at the edge and valid thereafter.

#[macro_use]
mod macros;

pub mod booking;
pub mod claim;
pub mod condition;
pub mod country;
pub mod deposit;
pub mod email;
pub mod events;
pub mod evidence;
pub mod inquiry;
pub mod listing;
pub mod listing_query;
pub mod message;
pub mod money;
pub mod notification;
pub mod payment;
pub mod payout;
pub mod payout_account;
pub mod photo;
pub mod review;
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

/// Whole seconds from `at` until `ends` (at least 1), rounded up: a client that waits that long
/// (a `Retry-After`) is never early.
pub fn seconds_until(ends: DateTime<Utc>, at: DateTime<Utc>) -> u64 {
    let ms = (ends - at).num_milliseconds().max(1);
    (ms / 1000 + i64::from(ms % 1000 != 0)) as u64
}
