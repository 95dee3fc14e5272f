//! Profiles, notifications, the audit log, the event publisher and the health check.

bundle::bundle! {
    "health" => health::run,
    "get-me" => get_me::run,
    "update-me" => update_me::run,
    "audit-log" => audit_log::run,
    "publish-events" => publish_events::run,
    "notifications" => notifications::run,
    "list-notifications" => list_notifications::run,
    "read-notification" => read_notification::run,
}
