//! What the payment side recorded on a booking.

use serde::Serialize;

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
    /// What we asked Stripe to refund (minor units), and its parts.
    pub refund_amount: i64,
    pub refund_plan: super::RefundPlan,
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
