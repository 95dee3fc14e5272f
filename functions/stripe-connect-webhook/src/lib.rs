//! `POST /webhooks/stripe-connect` (no JWT; Stripe signs instead): events on owners' connected
//! accounts (account updates, payouts), signed with the Connect endpoint's own secret and
//! received by `shared::webhooks`: verified, recorded once and queued on the payments FIFO
//! queue, grouped by connected account.

mod wiring;
pub use wiring::run;

pub use shared::webhooks::{receive as handle, Receiver as Deps};
