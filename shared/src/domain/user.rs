//! Users and their profiles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldError};

id_type!(
    /// A user's id: the identity provider's stable `sub` claim (a UUID for Cognito).
    UserId,
    "user"
);

impl UserId {
    /// Accepts 1-128 characters of `[A-Za-z0-9._:@|-]`; `#` is refused because it
    /// separates parts of our DynamoDB keys.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let ok = !raw.is_empty()
            && raw.len() <= 128
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || "._:@|-".contains(c));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(AppError::field("user_id", "is not a valid user id"))
        }
    }
}

/// What other users see as the person's name: 1-60 characters after trimming, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 60;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("display_name", "must not be empty"));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new("display_name", format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::new("display_name", "must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A name for a brand-new profile from whatever the identity token offers.
    pub fn from_claims(name: Option<&str>) -> Self {
        name.and_then(|n| Self::parse(n).ok()).unwrap_or_else(|| Self("New member".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<DisplayName> for String {
    fn from(n: DisplayName) -> Self {
        n.0
    }
}

/// A phone number in E.164 form: `+` then 8 to 15 digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        let digits = compact.strip_prefix('+').unwrap_or("");
        let ok =
            (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
        if ok {
            Ok(Self(compact))
        } else {
            Err(FieldError::new("phone", "must be an international number like +4915112345678"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<PhoneNumber> for String {
    fn from(n: PhoneNumber) -> Self {
        n.0
    }
}

/// A member's profile, created from the identity token on first `GET /me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub user_id: UserId,
    pub display_name: DisplayName,
    pub phone: Option<PhoneNumber>,
    /// From the token; shown to its owner only, never logged.
    pub email: Option<String>,
    /// Whether the identity provider verified that e-mail (the token's `email_verified`).
    pub email_verified: bool,
    /// The owner's Stripe connected account, once opened.
    pub payout_account: Option<super::payout_account::PayoutAccount>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl Profile {
    /// A new member's profile from what their identity provider says of them.
    pub fn register(user_id: UserId, name: Option<&str>, email: Option<String>, now: DateTime<Utc>) -> Self {
        Profile {
            user_id,
            display_name: DisplayName::from_claims(name),
            phone: None,
            email,
            email_verified: false,
            payout_account: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

/// A member's record on the platform: rentals completed after a return, counted once each in the
/// completion's own write (decision 0036).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemberStats {
    pub completed_as_renter: u64,
    pub completed_as_owner: u64,
    /// Their published reviews' stars (decision 0038).
    pub rating: super::review::RatingTotals,
}

/// `PATCH /me` as sent: every field optional; `phone: null` clears the number.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatchRequest {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "present_or_null")]
    pub phone: Option<Option<String>>,
}

/// A validated profile change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilePatch {
    pub display_name: Option<DisplayName>,
    /// `Some(None)` clears the phone number.
    pub phone: Option<Option<PhoneNumber>>,
}

impl ProfilePatch {
    /// Validates every field and reports all failures at once.
    pub fn parse(req: ProfilePatchRequest) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let display_name = req.display_name.as_deref().map(DisplayName::parse).transpose().unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let phone = match req.phone {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => match PhoneNumber::parse(&raw) {
                Ok(p) => Some(Some(p)),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if display_name.is_none() && phone.is_none() {
            return Err(AppError::bad_request("empty_patch", "send at least one of display_name, phone"));
        }
        Ok(Self { display_name, phone })
    }
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present_or_null<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids() {
        assert!(UserId::parse("0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10").is_ok());
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("USER#x").is_err());
        assert!(UserId::parse(&"a".repeat(129)).is_err());
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"é".repeat(60)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(61)).is_err());
        assert!(DisplayName::parse("bad\u{0007}name").is_err());
        assert_eq!(DisplayName::from_claims(Some("")).as_str(), "New member");
    }

    #[test]
    fn phone_numbers() {
        assert_eq!(PhoneNumber::parse("+49 151 1234-5678").unwrap().as_str(), "+4915112345678");
        for bad in ["015112345678", "+0151123456", "+12", "+1234567890123456", "+49abc1234567"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    fn patch(json: &str) -> Result<ProfilePatch, AppError> {
        ProfilePatch::parse(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn patch_absent_null_and_value() {
        assert_eq!(patch(r#"{"phone":null}"#).unwrap().phone, Some(None));
        assert_eq!(patch(r#"{"display_name":"Bo"}"#).unwrap().phone, None);
        assert!(matches!(patch(r#"{}"#), Err(AppError::BadRequest { code: "empty_patch", .. })));
        match patch(r#"{"display_name":"","phone":"12"}"#) {
            Err(AppError::Validation(errors)) => assert_eq!(errors.len(), 2),
            other => panic!("expected two field errors, got {other:?}"),
        }
    }
}
