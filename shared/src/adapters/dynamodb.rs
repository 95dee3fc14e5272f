//! DynamoDB adapters over the single table. Key layout (docs/data-model.md, "Data model: one DynamoDB table"):
//!
//! | item          | PK                 | SK                          |
//! |---------------|--------------------|-----------------------------|
//! | profile       | `USER#{user_id}`   | `PROFILE`                   |
//! | audit entry   | `AUDIT#{subject}`  | `EVT#{occurred_at}#{event}` |

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::sdk_error;
use crate::cursor::LastKey;
use crate::domain::events::DomainEvent;
use crate::domain::user::{DisplayName, PhoneNumber, Profile, ProfilePatch, UserId};
use crate::error::AppError;
use crate::ports::{AuditLog, ProfileStore, ProfileUpdater, Recorded};

const DEP: &str = "dynamodb";

#[derive(Clone, Debug)]
pub struct DynamoTable {
    client: Client,
    table: String,
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
    err: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> bool {
    err.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

/// The stored shape of a profile.
#[derive(Debug, Serialize, Deserialize)]
struct ProfileItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
    display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

fn profile_pk(id: &UserId) -> String {
    format!("USER#{id}")
}

const PROFILE_SK: &str = "PROFILE";

impl From<&Profile> for ProfileItem {
    fn from(p: &Profile) -> Self {
        ProfileItem {
            pk: profile_pk(&p.user_id),
            sk: PROFILE_SK.into(),
            entity: "profile".into(),
            user_id: p.user_id.to_string(),
            display_name: p.display_name.as_str().to_owned(),
            phone: p.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: p.email.clone(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

impl TryFrom<ProfileItem> for Profile {
    type Error = AppError;
    fn try_from(item: ProfileItem) -> Result<Self, AppError> {
        // Stored data was valid when written; a failure here is corruption, hence internal.
        let corrupt = |what: &str| AppError::internal(format!("stored profile has an invalid {what}"));
        Ok(Profile {
            user_id: UserId::parse(&item.user_id).map_err(|_| corrupt("user_id"))?,
            display_name: DisplayName::parse(&item.display_name).map_err(|_| corrupt("display_name"))?,
            phone: item.phone.as_deref().map(PhoneNumber::parse).transpose().map_err(|_| corrupt("phone"))?,
            email: item.email,
            created_at: item.created_at,
            updated_at: item.updated_at,
            version: item.version,
        })
    }
}

fn profile_from_item(item: std::collections::HashMap<String, AttributeValue>) -> Result<Profile, AppError> {
    let item: ProfileItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    item.try_into()
}

#[async_trait]
impl ProfileStore for DynamoTable {
    async fn get_profile(&self, id: &UserId) -> Result<Option<Profile>, AppError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(profile_pk(id)))
            .key("SK", s(PROFILE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(profile_from_item).transpose()
    }

    async fn create_profile_if_absent(&self, profile: &Profile) -> Result<(Profile, bool), AppError> {
        let item = serde_dynamo::to_item(ProfileItem::from(profile)).map_err(AppError::internal)?;
        // Two first calls of one user can race; the condition lets exactly one create.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok((profile.clone(), true)),
            Err(e) if is_condition_failure(&e) => {
                let existing = self.get_profile(&profile.user_id).await?;
                existing
                    .map(|p| (p, false))
                    .ok_or_else(|| AppError::internal("profile vanished between conditional put and read"))
            }
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }
}

#[async_trait]
impl ProfileUpdater for DynamoTable {
    async fn update_profile(&self, id: &UserId, patch: &ProfilePatch, now: DateTime<Utc>) -> Result<Profile, AppError> {
        let mut set = vec!["updated_at = :now", "version = version + :one"];
        let mut remove = Vec::new();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(profile_pk(id)))
            .key("SK", s(PROFILE_SK))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(ReturnValue::AllNew);
        if let Some(name) = &patch.display_name {
            set.push("display_name = :name");
            request = request.expression_attribute_values(":name", s(name.as_str()));
        }
        match &patch.phone {
            Some(Some(phone)) => {
                set.push("phone = :phone");
                request = request.expression_attribute_values(":phone", s(phone.as_str()));
            }
            Some(None) => remove.push("phone"),
            None => {}
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        match request.update_expression(expression).send().await {
            Ok(out) => profile_from_item(out.attributes.unwrap_or_default()),
            Err(e) if is_condition_failure(&e) => Err(AppError::NotFound("profile")),
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }
}

#[async_trait]
impl AuditLog for DynamoTable {
    async fn record(&self, event: &DomainEvent) -> Result<Recorded, AppError> {
        // The key is derived from the event alone, so a redelivered event maps onto the same
        // item and the condition turns the repeat into a no-op.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(format!("AUDIT#{}", event.subject)))
            .item("SK", s(format!("EVT#{}#{}", timestamp(event.occurred_at), event.id)))
            .item("entity", s("audit"))
            .item("event_id", s(event.id.to_string()))
            .item("type", s(&event.kind))
            .item("actor", s(event.actor.clone().unwrap_or_default()))
            .item("occurred_at", s(timestamp(event.occurred_at)))
            .item("data", s(event.data.to_string()))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Recorded::New),
            Err(e) if is_condition_failure(&e) => Ok(Recorded::Duplicate),
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }
}

// ---------------------------------------------------------------- helpers for every adapter

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// An item's sort key, if it has a string one.
pub(crate) fn sort_key(item: &Item) -> Option<&str> {
    item.get("SK").and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub(crate) fn key_item(pk: &str, sk: &str) -> Item {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

pub(crate) fn last_key_of(item: Option<&Item>, attributes: &[&str]) -> Option<LastKey> {
    let item = item?;
    let key: BTreeMap<String, String> = attributes
        .iter()
        .filter_map(|a| match item.get(*a) {
            Some(AttributeValue::S(v)) => Some(((*a).to_owned(), v.clone())),
            _ => None,
        })
        .collect();
    (key.len() == attributes.len()).then_some(key)
}

pub(crate) fn start_key(start: Option<LastKey>) -> Option<Item> {
    start.map(|k| k.into_iter().map(|(name, v)| (name, s(v))).collect())
}

/// An item's size as DynamoDB bills it: attribute names plus values (strings and binaries by
/// length, numbers ~1 byte per 2 digits + 1, containers 3 bytes + their contents).
pub fn item_size(item: &Item) -> usize {
    fn value_size(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.len().div_ceil(2) + 1,
            AttributeValue::B(b) => b.as_ref().len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
            AttributeValue::Ns(v) => v.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
            AttributeValue::L(v) => 3 + v.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
            AttributeValue::M(m) => 3 + m.iter().map(|(k, x)| 1 + k.len() + value_size(x)).sum::<usize>(),
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

pub(crate) fn capacity(c: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>) -> f64 {
    c.and_then(|c| c.capacity_units()).unwrap_or(0.0)
}

/// For a cancelled transaction, which of its items failed their condition (by position);
/// empty for any other error.
pub(crate) fn transaction_failures(
    err: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Vec<bool> {
    match err.as_service_error() {
        Some(
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e),
        ) => e.cancellation_reasons().iter().map(|r| r.code() == Some("ConditionalCheckFailed")).collect(),
        _ => Vec::new(),
    }
}

/// One page from a Query that asked for `limit + 1` items: the first `limit` items, the key to
/// continue after (only if the extra item showed there is more — never an empty last page),
/// and what was read (items, bytes) for logs and the search benchmark. With a projection,
/// `bytes_read` counts what came back; DynamoDB charges the read by the whole items.
pub(crate) struct QueryPage {
    pub items: Vec<Item>,
    pub last_key: Option<LastKey>,
    pub items_read: i32,
    pub bytes_read: usize,
}

/// A `ProjectionExpression` of `attributes` and its `ExpressionAttributeNames`: every name
/// goes through a placeholder (`#p0`, ...), so reserved words such as `status` need no care.
pub(crate) fn projection(attributes: &[&str]) -> (String, HashMap<String, String>) {
    let placeholders: Vec<String> = (0..attributes.len()).map(|i| format!("#p{i}")).collect();
    let names = placeholders.iter().cloned().zip(attributes.iter().map(|a| (*a).to_owned())).collect();
    (placeholders.join(", "), names)
}

pub(crate) fn query_page(mut items: Vec<Item>, limit: u32, key_attributes: &[&str]) -> QueryPage {
    let items_read = items.len() as i32;
    let bytes_read = items.iter().map(item_size).sum();
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let last_key = if more { last_key_of(items.last(), key_attributes) } else { None };
    QueryPage { items, last_key, items_read, bytes_read }
}
