//! What members see of profiles: their own (`GET|PATCH /me`) and anyone's (`GET /users/{id}`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::user::Profile;

#[derive(Debug, Serialize)]
pub struct ProfileView<'a> {
    pub user_id: &'a str,
    pub display_name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    /// On `GET /me`: why nothing is e-mailed to `email` any more (a bounce or a complaint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_stopped: Option<crate::domain::email::Suppression>,
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
            email_stopped: None,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

/// What anyone sees of a member (`GET /users/{id}`, decision 0036): never their e-mail, phone
/// or payout details.
#[derive(Debug, Serialize)]
pub struct PublicProfileView<'a> {
    pub user_id: &'a str,
    pub display_name: &'a str,
    /// The day they joined (not the instant).
    pub member_since: chrono::NaiveDate,
    pub rating: RatingView,
    pub completed_rentals: CompletedRentalsView,
    pub verified: VerifiedView,
}

/// Reviews' average and count; `null` and 0 until a published review exists.
pub use crate::domain::review::Rating as RatingView;

#[derive(Debug, Serialize)]
pub struct CompletedRentalsView {
    pub as_renter: u64,
    pub as_owner: u64,
}

#[derive(Debug, Serialize)]
pub struct VerifiedView {
    /// The identity provider verified their e-mail address.
    pub email: bool,
    /// Stripe verified them as a payee: details submitted and payouts enabled.
    pub payout_identity: bool,
}

impl<'a> PublicProfileView<'a> {
    pub fn of(p: &'a Profile, stats: &crate::domain::user::MemberStats) -> Self {
        PublicProfileView {
            user_id: p.user_id.as_str(),
            display_name: p.display_name.as_str(),
            member_since: p.created_at.date_naive(),
            rating: RatingView::of(stats.rating),
            completed_rentals: CompletedRentalsView {
                as_renter: stats.completed_as_renter,
                as_owner: stats.completed_as_owner,
            },
            verified: VerifiedView {
                email: p.email_verified,
                payout_identity: p.payout_account.as_ref().is_some_and(|a| a.details_submitted && a.payouts_enabled),
            },
        }
    }
}
