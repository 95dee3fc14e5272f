//! Profiles, notifications, the audit log and the health check.

bundle::bundle! {
    "health" => health::run,
    "get-me" => get_me::run,
    "update-me" => update_me::run,
    "audit-log" => audit_log::run,
    "notifications" => notifications::run,
    "list-notifications" => list_notifications::run,
    "read-notification" => read_notification::run,
}
