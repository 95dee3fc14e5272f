//! In-app notifications.

use super::*;

#[async_trait]
impl NotificationStore for MemoryStore {
    async fn put_notification(&self, n: &Notification) -> Result<Recorded, AppError> {
        let mut all = lock(&self.notifications);
        if all.iter().any(|x| x.id == n.id && x.user_id == n.user_id) {
            return Ok(Recorded::Duplicate);
        }
        all.push(n.clone());
        Ok(Recorded::New)
    }
    async fn notifications_of(
        &self,
        user: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Notification>, AppError> {
        let mut mine: Vec<(String, Notification)> = lock(&self.notifications)
            .iter()
            .filter(|n| &n.user_id == user)
            .map(|n| (n.id.clone(), n.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }
    async fn mark_read(&self, user: &UserId, id: &str, now: DateTime<Utc>) -> Result<Notification, AppError> {
        let mut all = lock(&self.notifications);
        let n = all.iter_mut().find(|n| &n.user_id == user && n.id == id).ok_or(AppError::NotFound("notification"))?;
        n.read = true;
        n.read_at.get_or_insert(now);
        Ok(n.clone())
    }
}
