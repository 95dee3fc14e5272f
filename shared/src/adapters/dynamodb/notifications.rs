//! In-app notifications, newest first per user.
//!
//! | item          | PK              | SK            |
//! |---------------|-----------------|---------------|
//! | notification  | `USER#{user}`   | `NOTIF#{id}`  |

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{s, timestamp, DynamoTable, Item, Partition, QueryPage, DEP};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::notification::Notification;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{NotificationStore, Page, Recorded};

#[derive(Debug, Serialize, Deserialize)]
struct NotificationItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: String,
    user_id: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    booking_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inquiry_id: Option<String>,
    text: String,
    read: bool,
    created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    read_at: Option<DateTime<Utc>>,
    /// When it was written (its event's delivery), for the commit-to-notification benchmark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stored_at: Option<DateTime<Utc>>,
    /// Notifications are kept for a year.
    expires_at: i64,
}

fn notification_item(n: &Notification) -> Result<Item, AppError> {
    serde_dynamo::to_item(NotificationItem {
        pk: format!("USER#{}", n.user_id),
        sk: format!("NOTIF#{}", n.id),
        entity: "notification".into(),
        id: n.id.clone(),
        user_id: n.user_id.to_string(),
        kind: n.kind.clone(),
        booking_id: n.booking_id.clone(),
        inquiry_id: n.inquiry_id.clone(),
        text: n.text.clone(),
        read: n.read,
        created_at: n.created_at,
        read_at: n.read_at,
        stored_at: Some(Utc::now()),
        expires_at: n.created_at.timestamp() + 365 * 24 * 3600,
    })
    .map_err(AppError::internal)
}

fn notification_from(item: Item) -> Result<Notification, AppError> {
    let i: NotificationItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    Ok(Notification {
        user_id: UserId::parse(&i.user_id)
            .map_err(|_| AppError::internal("stored notification has an invalid user id"))?,
        id: i.id,
        kind: i.kind,
        booking_id: i.booking_id,
        inquiry_id: i.inquiry_id,
        text: i.text,
        read: i.read,
        created_at: i.created_at,
        read_at: i.read_at,
    })
}

#[async_trait]
impl NotificationStore for DynamoTable {
    async fn put_notification(&self, n: &Notification) -> Result<Recorded, AppError> {
        let item = notification_item(n)?;
        // Keyed by the event id: a redelivered event is a no-op, never a second notification.
        match self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
        {
            Ok(_) => Ok(Recorded::New),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Ok(Recorded::Duplicate)
            }
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn notifications_of(
        &self,
        user: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Notification>, AppError> {
        // Ids start with UUID v7 event ids, so SK order is time order: newest first.
        let QueryPage { items, last_key, items_read, bytes_read } =
            self.newest_first(&Partition::TABLE, format!("USER#{user}"), "NOTIF#", limit, start).await?;
        let notifications = items.into_iter().map(notification_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: notifications, last_key, items_read, bytes_read, capacity_units: 0.0 })
    }

    async fn mark_read(&self, user: &UserId, id: &str, now: DateTime<Utc>) -> Result<Notification, AppError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("PK", s(format!("USER#{user}")))
            .key("SK", s(format!("NOTIF#{id}")))
            // Marking twice keeps the first read time.
            .update_expression("SET #read = :true, read_at = if_not_exists(read_at, :now)")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#read", "read")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":now", s(timestamp(now)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => notification_from(out.attributes.unwrap_or_default()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(AppError::NotFound("notification"))
            }
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{SubsecRound, Utc};

    use super::*;

    #[test]
    fn a_notification_round_trips_through_its_item() {
        let now = Utc::now().trunc_subsecs(3);
        let unread = Notification {
            id: "0192-renter".into(),
            user_id: UserId::parse("u-2").unwrap(),
            kind: "booking.accepted".into(),
            booking_id: Some("b-1".into()),
            inquiry_id: None,
            text: "Your booking was accepted".into(),
            read: false,
            created_at: now,
            read_at: None,
        };
        let read = Notification { read: true, read_at: Some(now), ..unread.clone() };
        for n in [unread, read] {
            assert_eq!(notification_from(notification_item(&n).unwrap()).unwrap(), n);
        }
    }
}
