//! Bookings, their scheduled tasks, payments and payouts.

bundle::bundle! {
    "quote-booking" => quote_booking::run,
    "create-booking" => create_booking::run,
    "accept-booking" => accept_booking::run,
    "decline-booking" => decline_booking::run,
    "cancel-booking" => cancel_booking::run,
    "get-booking" => get_booking::run,
    "list-bookings" => list_bookings::run,
    "expire-holds" => expire_holds::run,
    "complete-bookings" => complete_bookings::run,
    "create-payment" => create_payment::run,
    "payment-worker" => payment_worker::run,
    "stripe-webhook" => stripe_webhook::run,
    "stripe-connect-webhook" => stripe_connect_webhook::run,
    "transfer-payouts" => transfer_payouts::run,
    "publish-reviews" => publish_reviews::run,
}
