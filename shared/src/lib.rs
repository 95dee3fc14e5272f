//! rental-portal's domain crate: the types and rules every function shares, the ports
//! (traits) handlers depend on, and the AWS adapters that implement them.
//!
//! Dependencies point inward: `functions/*` -> rules in `domain` -> `ports`;
//! `adapters` implement `ports`. No handler calls an AWS SDK directly.

pub mod adapters;
pub mod bookings;
pub mod claims;
pub mod config;
pub mod connect;
pub mod consumer;
pub mod cursor;
pub mod deposits;
pub mod domain;
pub mod email;
pub mod error;
pub mod handover;
pub mod http;
pub mod identity;
pub mod json;
mod layering;
pub mod messages;
pub mod metrics;
pub mod paging;
pub mod payments;
pub mod payouts;
pub mod ports;
pub mod reports;
pub mod reviews;
pub mod scheduled;
pub mod secrets;
pub mod services;
pub mod telemetry;
pub mod views;
pub mod webhooks;

pub use error::AppError;

/// The allocator of every function (and of whatever else links this crate): mimalloc, not
/// glibc's malloc: a call allocates and frees thousands of small blocks (SDK requests, JSON,
/// log lines), and mimalloc does that in fewer instructions (decision 0020).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
