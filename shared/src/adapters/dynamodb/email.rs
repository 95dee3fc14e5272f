//! E-mail (decision 0045): members' switches, suppressed addresses, and `send-email`'s ledger.
//!
//! | item            | PK                | SK                       |
//! |-----------------|-------------------|--------------------------|
//! | e-mail switches | `USER#{user}`     | `EMAIL_SETTINGS`         |
//! | sent ledger     | `USER#{user}`     | `EMAIL#{notification}`   |
//! | thread slot     | `USER#{user}`     | `EMAIL_THREAD#{thread}`  |
//! | suppression     | `EMAIL#{address}` | `SUPPRESSION`            |
//!
//! Ledger entries and thread slots expire after 30 days (`expires_at`): far past any redelivery.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};

use super::profiles::profile_from_item;
use super::{is_condition_failure, key_item, s, sort_key, timestamp, DynamoTable, Item, DEP};
use crate::adapters::sdk_error;
use crate::domain::email::{Category, EmailAddress, EmailSettings, Suppression, SuppressionReason};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{Begun, EmailLedger, EmailPreferences, Recipient, Recorded, Suppressions};

const SETTINGS_SK: &str = "EMAIL_SETTINGS";
const SUPPRESSION_SK: &str = "SUPPRESSION";
const KEEP: i64 = 30 * 24 * 3600;

fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn boolean(item: &Item, name: &str) -> bool {
    item.get(name).and_then(|v| v.as_bool().ok()).copied().unwrap_or(true)
}

fn settings_from(item: Option<&Item>) -> EmailSettings {
    item.map(|i| EmailSettings { messages: boolean(i, "messages"), reviews: boolean(i, "reviews") }).unwrap_or_default()
}

/// Whether a conditional write's condition held (false: it did not, and nothing was written).
fn held<T, E, R>(result: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>) -> Result<bool, AppError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failure(&e) => Ok(false),
        Err(e) => Err(sdk_error(DEP, e)),
    }
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

impl DynamoTable {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key_item(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        Ok(out.item)
    }
}

#[async_trait]
impl EmailPreferences for DynamoTable {
    async fn email_settings(&self, user: &UserId) -> Result<EmailSettings, AppError> {
        Ok(settings_from(self.get(&user_pk(user), SETTINGS_SK).await?.as_ref()))
    }

    async fn switch_email(
        &self,
        user: &UserId,
        changes: &[(Category, bool)],
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&user_pk(user), SETTINGS_SK)))
            .expression_attribute_values(":entity", s("email_settings"))
            .expression_attribute_values(":now", s(timestamp(now)));
        let mut sets = vec!["entity = :entity".to_owned(), "updated_at = :now".to_owned()];
        for (category, on) in changes.iter().filter(|(c, _)| c.can_switch_off()) {
            let name = category.as_str();
            sets.push(format!("{name} = :{name}"));
            update = update.expression_attribute_values(format!(":{name}"), AttributeValue::Bool(*on));
        }
        update.update_expression(format!("SET {}", sets.join(", "))).send().await.map_err(|e| sdk_error(DEP, e))?;
        Ok(())
    }

    async fn suppression(&self, address: &EmailAddress) -> Result<Option<Suppression>, AppError> {
        let Some(item) = self.get(&format!("EMAIL#{}", address.key()), SUPPRESSION_SK).await? else { return Ok(None) };
        let corrupt =
            || AppError::internal(format!("a suppression of an address at {} is malformed", address.domain()));
        let reason = text(&item, "reason").and_then(SuppressionReason::parse).ok_or_else(corrupt)?;
        let since = text(&item, "since").and_then(|t| DateTime::parse_from_rfc3339(t).ok()).ok_or_else(corrupt)?;
        Ok(Some(Suppression {
            address: address.clone(),
            reason,
            since: since.to_utc(),
            feedback_id: text(&item, "feedback_id").unwrap_or_default().to_owned(),
        }))
    }
}

#[async_trait]
impl Suppressions for DynamoTable {
    async fn suppress(&self, sup: &Suppression) -> Result<Recorded, AppError> {
        let mut item = key_item(&format!("EMAIL#{}", sup.address.key()), SUPPRESSION_SK);
        item.insert("entity".into(), s("email_suppression"));
        item.insert("address".into(), s(sup.address.as_str()));
        item.insert("reason".into(), s(sup.reason.as_str()));
        item.insert("since".into(), s(timestamp(sup.since)));
        item.insert("feedback_id".into(), s(&sup.feedback_id));
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        Ok(if held(put)? { Recorded::New } else { Recorded::Duplicate })
    }
}

#[async_trait]
impl EmailLedger for DynamoTable {
    async fn recipient(&self, user: &UserId) -> Result<Option<Recipient>, AppError> {
        let pk = user_pk(user);
        let mut items = self.batch_get(vec![key_item(&pk, "PROFILE"), key_item(&pk, SETTINGS_SK)], true).await?;
        let settings = settings_from(items.iter().find(|i| sort_key(i) == Some(SETTINGS_SK)));
        let Some(at) = items.iter().position(|i| sort_key(i) == Some("PROFILE")) else { return Ok(None) };
        let profile = profile_from_item(items.swap_remove(at))?;
        Ok(Some(Recipient::of(&profile, settings)))
    }

    async fn begin_email(
        &self,
        user: &UserId,
        id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Begun, AppError> {
        let (pk, sk) = (user_pk(user), format!("EMAIL#{id}"));
        let token = uuid::Uuid::new_v4().to_string();
        let mut item = key_item(&pk, &sk);
        item.insert("entity".into(), s("email"));
        item.insert("status".into(), s("sending"));
        item.insert("lease_token".into(), s(&token));
        item.insert("lease_until".into(), n((now + lease).timestamp_millis()));
        item.insert("expires_at".into(), n(now.timestamp() + KEEP));
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR (#status = :sending AND lease_until < :now)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Begun::Started(token)),
            Err(e) if is_condition_failure(&e) => {
                let held = self.get(&pk, &sk).await?;
                match held.as_ref().and_then(|i| text(i, "status")) {
                    Some("sending") | None => Ok(Begun::Busy),
                    Some(outcome) => Ok(Begun::Finished(outcome.to_owned())),
                }
            }
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn thread_free(&self, user: &UserId, thread: &str, id: &str, at: DateTime<Utc>) -> Result<bool, AppError> {
        let Some(slot) = self.get(&user_pk(user), &format!("EMAIL_THREAD#{thread}")).await? else { return Ok(true) };
        let last = slot.get("last_at").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
        Ok(text(&slot, "holder") == Some(id) || last <= (at - crate::email::THREAD_WINDOW).timestamp_millis())
    }

    async fn hold_thread(&self, user: &UserId, thread: &str, id: &str, at: DateTime<Utc>) -> Result<bool, AppError> {
        let cutoff = (at - crate::email::THREAD_WINDOW).timestamp_millis();
        let update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&user_pk(user), &format!("EMAIL_THREAD#{thread}"))))
            .update_expression("SET entity = :entity, last_at = :at, holder = :id, expires_at = :expires")
            .condition_expression("attribute_not_exists(PK) OR last_at <= :cutoff OR holder = :id")
            .expression_attribute_values(":entity", s("email_thread"))
            .expression_attribute_values(":at", n(at.timestamp_millis()))
            .expression_attribute_values(":id", s(id))
            .expression_attribute_values(":expires", n(at.timestamp() + KEEP))
            .expression_attribute_values(":cutoff", n(cutoff))
            .send()
            .await;
        held(update)
    }

    async fn finish_email(
        &self,
        user: &UserId,
        id: &str,
        token: &str,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        let update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&user_pk(user), &format!("EMAIL#{id}"))))
            .update_expression("SET #status = :outcome, finished_at = :now REMOVE lease_until, lease_token")
            .condition_expression("#status = :sending AND lease_token = :token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":outcome", s(outcome))
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":token", s(token))
            .send()
            .await;
        held(update)
    }
}
