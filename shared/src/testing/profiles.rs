//! Profiles and the outbox (the audit trail).

use super::*;

#[async_trait]
impl crate::ports::MemberRecords for MemoryStore {
    async fn public_member(
        &self,
        id: &UserId,
    ) -> Result<Option<(Profile, crate::domain::user::MemberStats)>, AppError> {
        let stats = lock(&self.member_stats).get(id).copied().unwrap_or_default();
        Ok(lock(&self.profiles).get(id).cloned().map(|p| (p, stats)))
    }
}

#[async_trait]
impl ProfileStore for MemoryStore {
    async fn get_profile(&self, id: &UserId) -> Result<Option<Profile>, AppError> {
        Ok(lock(&self.profiles).get(id).cloned())
    }
    async fn create_profile_if_absent(
        &self,
        profile: &Profile,
        registered: &DomainEvent,
    ) -> Result<(Profile, bool), AppError> {
        let mut profiles = lock(&self.profiles);
        if let Some(existing) = profiles.get(&profile.user_id) {
            return Ok((existing.clone(), false));
        }
        profiles.insert(profile.user_id.clone(), profile.clone());
        self.outbox(registered);
        Ok((profile.clone(), true))
    }
}

#[async_trait]
impl ProfileUpdater for MemoryStore {
    async fn update_profile(
        &self,
        id: &UserId,
        patch: &ProfilePatch,
        now: DateTime<Utc>,
        event: &DomainEvent,
    ) -> Result<Profile, AppError> {
        let mut profiles = lock(&self.profiles);
        let p = profiles.get_mut(id).ok_or(AppError::NotFound("profile"))?;
        if let Some(name) = &patch.display_name {
            p.display_name = name.clone();
        }
        if let Some(phone) = &patch.phone {
            p.phone = phone.clone();
        }
        p.updated_at = now;
        p.version += 1;
        self.outbox(event);
        Ok(p.clone())
    }
}

#[async_trait]
impl crate::ports::PayoutAccountStore for MemoryStore {
    async fn link_payout_account(
        &self,
        user: &UserId,
        account: &PayoutAccount,
        event: &DomainEvent,
    ) -> Result<PayoutAccount, AppError> {
        let mut profiles = lock(&self.profiles);
        let p = profiles.get_mut(user).ok_or(AppError::NotFound("profile"))?;
        if p.payout_account.is_none() {
            p.payout_account = Some(account.clone());
            p.version += 1;
            self.outbox(event);
        }
        Ok(p.payout_account.clone().unwrap_or_else(|| account.clone()))
    }

    async fn report_payout_account(
        &self,
        user: &UserId,
        account: &PayoutAccount,
        event: &DomainEvent,
    ) -> Result<bool, AppError> {
        let mut profiles = lock(&self.profiles);
        let Some(p) = profiles.get_mut(user) else { return Ok(false) };
        match &p.payout_account {
            Some(linked) if linked.id == account.id && linked.reported_at <= account.reported_at => {
                p.payout_account = Some(account.clone());
                p.version += 1;
                self.outbox(event);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl crate::ports::Outbox for MemoryStore {
    async fn events_of(&self, subject: &str) -> Result<Vec<DomainEvent>, AppError> {
        Ok(lock(&self.events).iter().filter(|e| e.subject == subject).cloned().collect())
    }
}
