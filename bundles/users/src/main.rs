//! Profiles, messages, reviews, notifications, the event publisher and the health check.

bundle::bundle! {
    "health" => health::run,
    "get-me" => get_me::run,
    "get-user" => get_user::run,
    "update-me" => update_me::run,
    "open-payout-account" => open_payout_account::run,
    "get-payout-account" => get_payout_account::run,
    "publish-events" => publish_events::run,
    "notifications" => notifications::run,
    "list-notifications" => list_notifications::run,
    "list-earnings" => list_earnings::run,
    "list-payouts" => list_payouts::run,
    "read-notification" => read_notification::run,
    "post-message" => post_message::run,
    "post-inquiry-message" => post_inquiry_message::run,
    "list-inquiry-messages" => list_inquiry_messages::run,
    "list-messages" => list_messages::run,
    "read-messages" => read_messages::run,
    "list-threads" => list_threads::run,
    "write-review" => write_review::run,
    "list-user-reviews" => list_user_reviews::run,
}
