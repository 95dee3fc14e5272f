//! `POST /webhooks/stripe` (no JWT; Stripe signs instead): the platform's own events (payments,
//! refunds, disputes, transfers), received by `shared::webhooks`: verified, recorded once and
//! queued on the payments FIFO queue, grouped by booking.

mod wiring;
pub use wiring::run;

pub use shared::webhooks::{receive as handle, Receiver as Deps};
