//! DynamoDB adapters over the single table, one module per aggregate (each starts with its
//! key layout; all of them: docs/data-model.md, "Data model: one DynamoDB table"), and the
//! helpers they share.

mod bookings;
mod calendar;
mod claims;
mod deposits;
mod email;
mod evidence;
mod inquiries;
pub mod listings;
mod messages;
mod notifications;
pub mod outbox;
mod owner_payouts;
mod payments;
mod payouts;
mod photos;
mod profiles;
mod reports;
mod reviews;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::cursor::LastKey;
use crate::error::AppError;

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

    /// The function's table, named by `TABLE_NAME`.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, crate::config::ConfigError> {
        Ok(Self::new(Client::new(config), crate::config::env_required("TABLE_NAME")?))
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    /// The items at `keys` (a handful) that exist, in one BatchGetItem, strongly consistent when
    /// asked. Only throttling leaves keys unprocessed: `Unavailable`, for the caller's retry.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>, AppError> {
        let keys = keys
            .into_iter()
            .fold(aws_sdk_dynamodb::types::KeysAndAttributes::builder(), |k, key| k.keys(key))
            .consistent_read(consistent)
            .build()
            .map_err(AppError::internal)?;
        let out = self
            .client
            .batch_get_item()
            .request_items(&self.table, keys)
            .send()
            .await
            .map_err(|e| crate::adapters::sdk_error(DEP, e))?;
        if out.unprocessed_keys.as_ref().is_some_and(|u| !u.is_empty()) {
            return Err(AppError::Unavailable { dependency: DEP.into() });
        }
        Ok(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default())
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

// ---------------------------------------------------------------- helpers for every adapter

pub(crate) fn put(put: aws_sdk_dynamodb::types::builders::PutBuilder) -> Result<TransactWriteItem, AppError> {
    Ok(TransactWriteItem::builder().put(put.build().map_err(AppError::internal)?).build())
}

pub(crate) fn delete_write(
    delete: aws_sdk_dynamodb::types::builders::DeleteBuilder,
) -> Result<TransactWriteItem, AppError> {
    Ok(TransactWriteItem::builder().delete(delete.build().map_err(AppError::internal)?).build())
}

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

/// Whether a transaction was cancelled because another one was writing the same item at the
/// same moment (`TransactionConflict`): nothing was written, and the same writes may be retried.
pub(crate) fn transaction_conflicted(
    err: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> bool {
    match err.as_service_error() {
        Some(
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e),
        ) => e.cancellation_reasons().iter().any(|r| r.code() == Some("TransactionConflict")),
        _ => false,
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

/// Where a newest-first listing reads: the table, or an index, and the partition and sort
/// attributes it is keyed by there.
pub(crate) struct Partition<'a> {
    pub index: Option<&'a str>,
    pub pk_attr: &'a str,
    pub sk_attr: &'a str,
}

impl<'a> Partition<'a> {
    pub const TABLE: Partition<'static> = Partition { index: None, pk_attr: "PK", sk_attr: "SK" };
}

impl DynamoTable {
    /// Runs `writes` as one transaction. `Ok(false)` when the first write's condition failed
    /// (the write the caller guards: "not stored yet", "at this version"), so the caller says
    /// what that means; any other refusal or fault is an error.
    pub(crate) async fn transact_guarded(&self, writes: Vec<TransactWriteItem>) -> Result<bool, AppError> {
        match self.client().transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(true),
            Err(e) if transaction_failures(&e).first() == Some(&true) => Ok(false),
            Err(e) => Err(crate::adapters::sdk_error(DEP, e)),
        }
    }

    /// [`DynamoTable::transact_guarded`], with writes cancelled by a concurrent transaction on
    /// the same items (busy counters: a member's rating totals, say) tried again, three times in
    /// all, then `Unavailable`.
    pub(crate) async fn transact_guarded_retrying(&self, writes: Vec<TransactWriteItem>) -> Result<bool, AppError> {
        for _ in 0..3 {
            match self.client().transact_write_items().set_transact_items(Some(writes.clone())).send().await {
                Ok(_) => return Ok(true),
                Err(e) if transaction_failures(&e).first() == Some(&true) => return Ok(false),
                Err(e) if transaction_conflicted(&e) => continue,
                Err(e) => return Err(crate::adapters::sdk_error(DEP, e)),
            }
        }
        Err(AppError::Unavailable { dependency: DEP.to_owned() })
    }

    /// One page of partition `pk`'s items whose sort key starts with `prefix`, highest sort key
    /// first (`limit + 1` read, see [`query_page`]), continuing after `start`.
    pub(crate) async fn newest_first(
        &self,
        at: &Partition<'_>,
        pk: String,
        prefix: &str,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<QueryPage, AppError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .set_index_name(at.index.map(str::to_owned))
            .key_condition_expression(format!("{} = :pk AND begins_with({}, :prefix)", at.pk_attr, at.sk_attr))
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .scan_index_forward(false)
            .limit(limit as i32 + 1)
            .set_exclusive_start_key(start_key(start))
            .send()
            .await
            .map_err(|e| crate::adapters::sdk_error(DEP, e))?;
        let mut keys = vec!["PK", "SK"];
        if at.index.is_some() {
            keys.extend([at.pk_attr, at.sk_attr]);
        }
        Ok(query_page(out.items.unwrap_or_default(), limit, &keys))
    }

    /// The booking ids in GSI3 partition `pk` (a due list) whose sort key is below `upper`,
    /// earliest first. The index projects keys only: the id is in the table key.
    pub(crate) async fn due_booking_ids(
        &self,
        pk: &str,
        upper: String,
        limit: u32,
    ) -> Result<Vec<crate::domain::booking::BookingId>, AppError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("GSI3")
            .key_condition_expression("GSI3PK = :pk AND GSI3SK < :upper")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":upper", s(upper))
            .limit(limit as i32)
            .send()
            .await
            .map_err(|e| crate::adapters::sdk_error(DEP, e))?;
        out.items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| item.get("PK").and_then(|v| v.as_s().ok()).and_then(|pk| pk.strip_prefix("BOOKING#")))
            .map(|id| {
                crate::domain::booking::BookingId::parse(id)
                    .map_err(|_| AppError::internal("due index holds an invalid booking id"))
            })
            .collect()
    }
}
