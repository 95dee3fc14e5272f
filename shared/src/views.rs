//! Response bodies: what clients see of domain objects.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::user::Profile;

#[derive(Debug, Serialize)]
pub struct ProfileView<'a> {
    pub user_id: &'a str,
    pub display_name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl<'a> From<&'a Profile> for ProfileView<'a> {
    fn from(p: &'a Profile) -> Self {
        ProfileView {
            user_id: p.user_id.as_str(),
            display_name: p.display_name.as_str(),
            phone: p.phone.as_ref().map(|p| p.as_str()),
            email: p.email.as_deref(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}
