//! Profiles.
//!
//! | item          | PK                 | SK                          |
//! |---------------|--------------------|-----------------------------|
//! | profile       | `USER#{user_id}`   | `PROFILE`                   |
//! | member stats  | `MEMBER#{user_id}` | `STATS`                     |

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::outbox::event_put;
use super::{key_item, put, s, timestamp, DynamoTable, DEP};
use crate::adapters::sdk_error;
use crate::domain::country::Country;
use crate::domain::events::DomainEvent;
use crate::domain::payout_account::PayoutAccount;
use crate::domain::user::{DisplayName, MemberStats, PhoneNumber, Profile, ProfilePatch, UserId};
use crate::error::AppError;
use crate::ports::{MemberRecords, PayoutAccountStore, ProfileStore, ProfileUpdater};

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
    /// Absent on profiles made before it was recorded: not verified.
    #[serde(default)]
    email_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payout_account: Option<PayoutAccountItem>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

/// The payout account as a map on the profile; `reported_at` in epoch milliseconds, so the
/// newest-wins condition compares numbers.
#[derive(Debug, Serialize, Deserialize)]
struct PayoutAccountItem {
    id: String,
    country: String,
    details_submitted: bool,
    charges_enabled: bool,
    payouts_enabled: bool,
    transfers_active: bool,
    currently_due: Vec<String>,
    past_due: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    reported_at: i64,
}

impl From<&PayoutAccount> for PayoutAccountItem {
    fn from(a: &PayoutAccount) -> Self {
        PayoutAccountItem {
            id: a.id.clone(),
            country: a.country.code().into(),
            details_submitted: a.details_submitted,
            charges_enabled: a.charges_enabled,
            payouts_enabled: a.payouts_enabled,
            transfers_active: a.transfers_active,
            currently_due: a.currently_due.clone(),
            past_due: a.past_due.clone(),
            disabled_reason: a.disabled_reason.clone(),
            reported_at: a.reported_at.timestamp_millis(),
        }
    }
}

impl PayoutAccountItem {
    fn into_domain(self) -> Option<PayoutAccount> {
        Some(PayoutAccount {
            country: Country::parse(&self.country)?,
            reported_at: DateTime::from_timestamp_millis(self.reported_at)?,
            id: self.id,
            details_submitted: self.details_submitted,
            charges_enabled: self.charges_enabled,
            payouts_enabled: self.payouts_enabled,
            transfers_active: self.transfers_active,
            currently_due: self.currently_due,
            past_due: self.past_due,
            disabled_reason: self.disabled_reason,
        })
    }
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
            email_verified: p.email_verified,
            payout_account: p.payout_account.as_ref().map(PayoutAccountItem::from),
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
            email_verified: item.email_verified,
            payout_account: match item.payout_account {
                Some(a) => Some(a.into_domain().ok_or_else(|| corrupt("payout_account"))?),
                None => None,
            },
            created_at: item.created_at,
            updated_at: item.updated_at,
            version: item.version,
        })
    }
}

pub(super) fn profile_from_item(item: std::collections::HashMap<String, AttributeValue>) -> Result<Profile, AppError> {
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

    async fn create_profile_if_absent(
        &self,
        profile: &Profile,
        registered: &DomainEvent,
    ) -> Result<(Profile, bool), AppError> {
        let item = serde_dynamo::to_item(ProfileItem::from(profile)).map_err(AppError::internal)?;
        // Two first calls of one user can race; the condition lets exactly one create (and
        // so exactly one announce the registration).
        let writes = vec![
            put(Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)"))?,
            event_put(&self.table, registered)?,
        ];
        if self.transact_guarded(writes).await? {
            return Ok((profile.clone(), true));
        }
        let existing = self.get_profile(&profile.user_id).await?;
        existing
            .map(|p| (p, false))
            .ok_or_else(|| AppError::internal("profile vanished between conditional put and read"))
    }
}

/// The member's counters: a partition of their own, so the completion task's role may update
/// them and nothing else of the member's.
pub(super) fn stats_pk(id: &UserId) -> String {
    format!("MEMBER#{id}")
}

/// The counters a completion adds to (`ADD`, so the item appears with the first).
pub(super) fn member_stats_update(table: &str, user: &UserId, counter: &str) -> Result<TransactWriteItem, AppError> {
    let update = Update::builder()
        .table_name(table)
        .key("PK", s(stats_pk(user)))
        .key("SK", s(STATS_SK))
        .update_expression("ADD #counter :one SET entity = :entity")
        .expression_attribute_names("#counter", counter)
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":entity", s("member_stats"))
        .build()
        .map_err(AppError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

pub(super) const STATS_SK: &str = "STATS";

#[async_trait]
impl MemberRecords for DynamoTable {
    async fn public_member(&self, id: &UserId) -> Result<Option<(Profile, MemberStats)>, AppError> {
        let keys = vec![key_item(&profile_pk(id), PROFILE_SK), key_item(&stats_pk(id), STATS_SK)];
        let mut items = self.batch_get(keys, false).await?;
        let is = |item: &std::collections::HashMap<String, AttributeValue>, sk: &str| {
            item.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|v| v == sk)
        };
        let Some(at) = items.iter().position(|i| is(i, PROFILE_SK)) else {
            return Ok(None);
        };
        let profile = profile_from_item(items.swap_remove(at))?;
        let count = |item: Option<&std::collections::HashMap<String, AttributeValue>>, name: &str| {
            item.and_then(|i| i.get(name)).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
        };
        let stats = items.iter().find(|i| is(i, STATS_SK));
        let stats = MemberStats {
            completed_as_renter: count(stats, "completed_as_renter"),
            completed_as_owner: count(stats, "completed_as_owner"),
            rating: stats.map(super::reviews::rating_totals).unwrap_or_default(),
        };
        Ok(Some((profile, stats)))
    }
}

#[async_trait]
impl ProfileUpdater for DynamoTable {
    async fn update_profile(
        &self,
        id: &UserId,
        patch: &ProfilePatch,
        now: DateTime<Utc>,
        event: &DomainEvent,
    ) -> Result<Profile, AppError> {
        let mut set = vec!["updated_at = :now", "version = version + :one"];
        let mut remove = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(profile_pk(id)))
            .key("SK", s(PROFILE_SK))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", s(timestamp(now)))
            .expression_attribute_values(":one", AttributeValue::N("1".into()));
        if let Some(name) = &patch.display_name {
            set.push("display_name = :name");
            update = update.expression_attribute_values(":name", s(name.as_str()));
        }
        match &patch.phone {
            Some(Some(phone)) => {
                set.push("phone = :phone");
                update = update.expression_attribute_values(":phone", s(phone.as_str()));
            }
            Some(None) => remove.push("phone"),
            None => {}
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let update = update.update_expression(expression).build().map_err(AppError::internal)?;
        // A transaction returns no item, so the updated profile is read back (consistently).
        let writes = vec![TransactWriteItem::builder().update(update).build(), event_put(&self.table, event)?];
        if !self.transact_guarded(writes).await? {
            return Err(AppError::NotFound("profile"));
        }
        self.get_profile(id).await?.ok_or_else(|| AppError::internal("profile vanished after its update"))
    }
}

impl DynamoTable {
    /// Sets the profile's payout account under `condition`, with `event`, in one transaction;
    /// whether the condition held.
    async fn set_payout_account(
        &self,
        user: &UserId,
        account: &PayoutAccount,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        event: &DomainEvent,
        also: Option<TransactWriteItem>,
    ) -> Result<bool, AppError> {
        let value = serde_dynamo::to_attribute_value(PayoutAccountItem::from(account)).map_err(AppError::internal)?;
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("PK", s(profile_pk(user)))
            .key("SK", s(PROFILE_SK))
            .update_expression("SET payout_account = :a, version = version + :one")
            .condition_expression(condition)
            .expression_attribute_values(":a", value)
            .expression_attribute_values(":one", AttributeValue::N("1".into()));
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        let update = update.build().map_err(AppError::internal)?;
        let mut writes = vec![TransactWriteItem::builder().update(update).build(), event_put(&self.table, event)?];
        writes.extend(also);
        self.transact_guarded(writes).await
    }
}

#[async_trait]
impl PayoutAccountStore for DynamoTable {
    async fn link_payout_account(
        &self,
        user: &UserId,
        account: &PayoutAccount,
        event: &DomainEvent,
    ) -> Result<PayoutAccount, AppError> {
        let condition = "attribute_exists(PK) AND attribute_not_exists(payout_account)";
        // With it, the account's owner: Connect events name the account, not the user.
        let owner = super::owner_payouts::account_owner_put(&self.table, &account.id, user)?;
        self.set_payout_account(user, account, condition, vec![], event, Some(owner)).await?;
        let profile = self.get_profile(user).await?.ok_or(AppError::NotFound("profile"))?;
        profile.payout_account.ok_or_else(|| AppError::internal("payout account vanished after linking"))
    }

    async fn report_payout_account(
        &self,
        user: &UserId,
        account: &PayoutAccount,
        event: &DomainEvent,
    ) -> Result<bool, AppError> {
        // Equal times apply: Stripe's `created` is in seconds, and a later delivery of the same
        // second is at least as likely to be the newer state.
        let condition = "payout_account.id = :id AND payout_account.reported_at <= :at";
        let at = AttributeValue::N(account.reported_at.timestamp_millis().to_string());
        self.set_payout_account(user, account, condition, vec![(":id", s(&account.id)), (":at", at)], event, None).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{SubsecRound, Utc};

    use super::*;

    #[test]
    fn a_profile_round_trips_through_its_item() {
        let now = Utc::now().trunc_subsecs(3);
        let bare = Profile::register(UserId::parse("u-1").unwrap(), None, None, now);
        let full = Profile {
            phone: Some(PhoneNumber::parse("+4915112345678").unwrap()),
            email: Some("someone@example.test".into()),
            display_name: DisplayName::parse("Ada").unwrap(),
            version: 7,
            ..bare.clone()
        };
        for p in [bare, full] {
            let item = serde_dynamo::to_item(ProfileItem::from(&p)).unwrap();
            assert_eq!(profile_from_item(item).unwrap(), p);
        }
    }
}
