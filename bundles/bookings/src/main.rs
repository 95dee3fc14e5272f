//! Bookings, their scheduled tasks, payments and payouts; e-mail.

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
    "send-email" => send_email::run,
    "email-feedback" => email_feedback::run,
    "get-notification-settings" => get_notification_settings::run,
    "update-notification-settings" => update_notification_settings::run,
    "unsubscribe" => unsubscribe::run,
}
