//! Listings: what owners offer for rent, and the rules every change must keep.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::booking::CancellationPolicy;
use super::country::Country;
use super::money::{Money, MoneyInput};
use super::user::UserId;
use crate::error::{AppError, FieldError};

id_type!(
    /// A listing's id: a UUID v7 (time-ordered), lower-case hyphenated.
    ListingId,
    uuid "listing"
);

string_enum!(
    /// What kind of thing is for rent; a fixed set so search can index it.
    Category {
        Tools => "tools", Electronics => "electronics", Cameras => "cameras", Vehicles => "vehicles",
        Bikes => "bikes", Outdoor => "outdoor", Sports => "sports", Party => "party", Music => "music",
        Home => "home", Other => "other",
    }
);

string_enum!(
    /// `instant`: a booking holds the dates and goes straight to payment; `request`: the owner
    /// accepts or declines first.
    BookingMode { Instant => "instant", Request => "request" }
);

string_enum!(
    ListingStatus { Draft => "draft", Active => "active", Paused => "paused", Archived => "archived" }
);

impl ListingStatus {
    /// draft -> active -> paused -> active; any -> archived; archived is final.
    pub fn can_become(self, to: ListingStatus) -> bool {
        use ListingStatus::*;
        matches!(
            (self, to),
            (Draft, Active) | (Active, Paused) | (Paused, Active) | (Draft | Active | Paused, Archived)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    pub city: String,
    pub country: Country,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    pub city: String,
    pub country: String,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
}

impl Location {
    pub fn parse(input: &LocationInput, errors: &mut Vec<FieldError>) -> Option<Self> {
        let city = input.city.trim();
        let city_ok = !city.is_empty() && city.chars().count() <= 100 && !city.chars().any(char::is_control);
        if !city_ok {
            errors.push(FieldError::new("location.city", "must be 1-100 characters"));
        }
        let country = Country::parse(&input.country);
        if country.is_none() {
            errors.push(FieldError::new("location.country", "must be an ISO 3166-1 alpha-2 code, e.g. DE"));
        }
        if let Some(lat) = input.lat {
            if !(-90.0..=90.0).contains(&lat) {
                errors.push(FieldError::new("location.lat", "must be between -90 and 90"));
            }
        }
        if let Some(lng) = input.lng {
            if !(-180.0..=180.0).contains(&lng) {
                errors.push(FieldError::new("location.lng", "must be between -180 and 180"));
            }
        }
        if input.lat.is_some() != input.lng.is_some() {
            errors.push(FieldError::new("location", "lat and lng go together"));
        }
        Some(Location { city: city.to_owned(), country: country?, lat: input.lat, lng: input.lng }).filter(|_| city_ok)
    }

    /// The city as search keys use it: case- and space-insensitive.
    pub fn city_key(&self) -> String {
        self.city.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listing {
    pub id: ListingId,
    pub owner_id: UserId,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub location: Location,
    pub daily_price: Money,
    pub deposit: Money,
    pub min_days: u16,
    pub max_days: u16,
    pub booking_mode: BookingMode,
    /// What a renter's cancellation refunds (copied onto each booking when it is made).
    pub cancellation_policy: CancellationPolicy,
    pub status: ListingStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// What `GET /me/listings` shows of each of the owner's listings: enough for a dashboard row
/// and to act on it (`status`; `version` for `If-Match`), not the description and the terms,
/// which are one `GET /listings/{id}` away. A list never carries up to 5,000 characters of
/// description per item, and its query reads 15 attributes of each listing, not all of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnedListingSummary {
    pub id: ListingId,
    pub title: String,
    pub category: Category,
    pub city: String,
    pub country: Country,
    pub daily_price: Money,
    pub status: ListingStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl From<&Listing> for OwnedListingSummary {
    fn from(l: &Listing) -> Self {
        OwnedListingSummary {
            id: l.id.clone(),
            title: l.title.clone(),
            category: l.category,
            city: l.location.city.clone(),
            country: l.location.country,
            daily_price: l.daily_price,
            status: l.status,
            created_at: l.created_at,
            updated_at: l.updated_at,
            version: l.version,
        }
    }
}

pub const MAX_DAYS_LIMIT: u16 = 90;

/// `POST /listings` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateListingRequest {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub category: Category,
    pub location: LocationInput,
    pub daily_price: MoneyInput,
    pub deposit: MoneyInput,
    pub min_days: u16,
    pub max_days: u16,
    pub booking_mode: BookingMode,
    #[serde(default)]
    pub cancellation_policy: CancellationPolicy,
    pub status: ListingStatus,
}

/// `PATCH /listings/{id}` as sent: any subset of the fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchListingRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<Category>,
    pub location: Option<LocationInput>,
    pub daily_price: Option<MoneyInput>,
    pub deposit: Option<MoneyInput>,
    pub min_days: Option<u16>,
    pub max_days: Option<u16>,
    pub booking_mode: Option<BookingMode>,
    pub cancellation_policy: Option<CancellationPolicy>,
    pub status: Option<ListingStatus>,
}

fn check_title(raw: &str, errors: &mut Vec<FieldError>) -> String {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 120 || t.chars().any(char::is_control) {
        errors.push(FieldError::new("title", "must be 1-120 characters without control characters"));
    }
    t.to_owned()
}

fn check_description(raw: &str, errors: &mut Vec<FieldError>) -> String {
    if raw.chars().count() > 5000 || raw.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        errors.push(FieldError::new("description", "must be at most 5000 characters"));
    }
    raw.trim().to_owned()
}

/// Rules across fields, checked on the listing as it would be stored.
fn check_consistency(l: &Listing, errors: &mut Vec<FieldError>) {
    if l.deposit.currency != l.daily_price.currency {
        errors.push(FieldError::new("deposit.currency", "must be the same as daily_price.currency"));
    }
    if l.min_days < 1 {
        errors.push(FieldError::new("min_days", "must be at least 1"));
    }
    if l.max_days > MAX_DAYS_LIMIT || l.max_days < l.min_days {
        errors.push(FieldError::new("max_days", format!("must be between min_days and {MAX_DAYS_LIMIT}")));
    }
}

fn done<T>(value: Option<T>, errors: Vec<FieldError>) -> Result<T, AppError> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(AppError::Validation(errors)),
    }
}

impl Listing {
    /// A new listing owned by `owner`, validated whole.
    pub fn create(req: CreateListingRequest, owner: UserId, now: DateTime<Utc>) -> Result<Self, AppError> {
        // Milliseconds: what search keys order by, so clients see the order's own clock.
        let now = now.trunc_subsecs(3);
        let mut errors = Vec::new();
        let title = check_title(&req.title, &mut errors);
        let description = check_description(&req.description, &mut errors);
        let location = Location::parse(&req.location, &mut errors);
        let daily_price = Money::parse("daily_price", &req.daily_price, 1).map_err(|e| errors.push(e)).ok();
        let deposit = Money::parse("deposit", &req.deposit, 0).map_err(|e| errors.push(e)).ok();
        if !matches!(req.status, ListingStatus::Draft | ListingStatus::Active) {
            errors.push(FieldError::new("status", "a new listing is draft or active"));
        }
        let listing = match (location, daily_price, deposit) {
            (Some(location), Some(daily_price), Some(deposit)) => Some(Listing {
                id: ListingId::generate(),
                owner_id: owner,
                title,
                description,
                category: req.category,
                location,
                daily_price,
                deposit,
                min_days: req.min_days,
                max_days: req.max_days,
                booking_mode: req.booking_mode,
                cancellation_policy: req.cancellation_policy,
                status: req.status,
                created_at: now,
                updated_at: now,
                version: 1,
            }),
            _ => None,
        };
        if let Some(l) = &listing {
            check_consistency(l, &mut errors);
        }
        done(listing, errors)
    }

    /// This listing with `patch` applied, or why not. The version moves on by one.
    pub fn apply(&self, patch: PatchListingRequest, now: DateTime<Utc>) -> Result<Self, AppError> {
        if self.status == ListingStatus::Archived {
            return Err(AppError::conflict("listing_archived", "an archived listing cannot be changed"));
        }
        let mut next = self.clone();
        let mut errors = Vec::new();
        let mut changed = false;
        if let Some(t) = &patch.title {
            next.title = check_title(t, &mut errors);
            changed = true;
        }
        if let Some(d) = &patch.description {
            next.description = check_description(d, &mut errors);
            changed = true;
        }
        if let Some(c) = patch.category {
            next.category = c;
            changed = true;
        }
        if let Some(loc) = &patch.location {
            if let Some(l) = Location::parse(loc, &mut errors) {
                next.location = l;
            }
            changed = true;
        }
        if let Some(p) = &patch.daily_price {
            match Money::parse("daily_price", p, 1) {
                Ok(m) => next.daily_price = m,
                Err(e) => errors.push(e),
            }
            changed = true;
        }
        if let Some(p) = &patch.deposit {
            match Money::parse("deposit", p, 0) {
                Ok(m) => next.deposit = m,
                Err(e) => errors.push(e),
            }
            changed = true;
        }
        if let Some(n) = patch.min_days {
            next.min_days = n;
            changed = true;
        }
        if let Some(n) = patch.max_days {
            next.max_days = n;
            changed = true;
        }
        if let Some(m) = patch.booking_mode {
            next.booking_mode = m;
            changed = true;
        }
        if let Some(p) = patch.cancellation_policy {
            next.cancellation_policy = p;
            changed = true;
        }
        if let Some(to) = patch.status {
            if to != self.status && !self.status.can_become(to) {
                return Err(AppError::conflict(
                    "invalid_status_transition",
                    format!("a {} listing cannot become {}", self.status.as_str(), to.as_str()),
                ));
            }
            next.status = to;
            changed = true;
        }
        if !changed {
            return Err(AppError::bad_request("empty_patch", "send at least one field to change"));
        }
        check_consistency(&next, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        next.updated_at = now.trunc_subsecs(3);
        next.version = self.version + 1;
        Ok(next)
    }

    /// Soft delete: archived listings leave search and cannot be booked.
    pub fn archive(&self, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.status = ListingStatus::Archived;
        next.updated_at = now.trunc_subsecs(3);
        next.version = self.version + 1;
        next
    }

    /// Active listings are public; the rest only to their owner. (Past renters of archived
    /// listings join this rule with bookings.)
    pub fn visible_to(&self, viewer: Option<&UserId>) -> bool {
        self.status == ListingStatus::Active || viewer == Some(&self.owner_id)
    }

    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Optimistic concurrency: the `If-Match` a write must carry. `None` header -> 428; a
/// version that is not the current one -> 412; `*` matches any.
pub fn check_if_match(header: Option<&str>, current_version: u64) -> Result<(), AppError> {
    let raw = header.ok_or(AppError::PreconditionRequired)?;
    let matches = raw.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
        tag == "*" || tag.parse::<u64>().ok() == Some(current_version)
    });
    if matches {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }

    pub(crate) fn request(json: serde_json::Value) -> CreateListingRequest {
        let mut base = serde_json::json!({
            "title": "Cordless drill", "description": "18V, two batteries", "category": "tools",
            "location": {"city": "Berlin", "country": "DE", "lat": 52.52, "lng": 13.40},
            "daily_price": {"amount": 1200, "currency": "EUR"}, "deposit": {"amount": 5000, "currency": "EUR"},
            "min_days": 1, "max_days": 14, "booking_mode": "instant", "status": "active"
        });
        if let (Some(b), Some(o)) = (base.as_object_mut(), json.as_object()) {
            for (k, v) in o {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).unwrap()
    }

    fn owner() -> UserId {
        UserId::parse("owner-1").unwrap()
    }

    fn fields(err: AppError) -> Vec<String> {
        match err {
            AppError::Validation(e) => e.into_iter().map(|f| f.field).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn creates_a_valid_listing() {
        let l = Listing::create(request(serde_json::json!({})), owner(), now()).unwrap();
        assert_eq!(l.version, 1);
        assert_eq!(l.location.country.code(), "DE");
        assert_eq!(l.etag(), "\"1\"");
    }

    #[test]
    fn cancellation_policy_defaults_to_moderate_and_changes_by_patch() {
        let l = Listing::create(request(serde_json::json!({})), owner(), now()).unwrap();
        assert_eq!(l.cancellation_policy, CancellationPolicy::Moderate);
        let l = Listing::create(request(serde_json::json!({"cancellation_policy": "strict"})), owner(), now()).unwrap();
        assert_eq!(l.cancellation_policy, CancellationPolicy::Strict);
        let patch = serde_json::from_value(serde_json::json!({"cancellation_policy": "flexible"})).unwrap();
        assert_eq!(l.apply(patch, now()).unwrap().cancellation_policy, CancellationPolicy::Flexible);
        assert!(serde_json::from_value::<CreateListingRequest>(serde_json::json!({"cancellation_policy": "lenient"}))
            .is_err());
    }

    #[test]
    fn create_rules() {
        let cases = [
            (serde_json::json!({"title": " "}), "title"),
            (serde_json::json!({"title": "x".repeat(121)}), "title"),
            (serde_json::json!({"description": "x".repeat(5001)}), "description"),
            (serde_json::json!({"location": {"city": "Berlin", "country": "XX"}}), "location.country"),
            (serde_json::json!({"location": {"city": "B", "country": "DE", "lat": 91.0, "lng": 0.0}}), "location.lat"),
            (serde_json::json!({"location": {"city": "B", "country": "DE", "lat": 1.0}}), "location"),
            (serde_json::json!({"daily_price": {"amount": 0, "currency": "EUR"}}), "daily_price.amount"),
            (serde_json::json!({"deposit": {"amount": 100, "currency": "USD"}}), "deposit.currency"),
            (serde_json::json!({"min_days": 0}), "min_days"),
            (serde_json::json!({"max_days": 91}), "max_days"),
            (serde_json::json!({"min_days": 5, "max_days": 4}), "max_days"),
            (serde_json::json!({"status": "paused"}), "status"),
        ];
        for (json, field) in cases {
            let err = Listing::create(request(json.clone()), owner(), now()).unwrap_err();
            assert!(fields(err).contains(&field.to_owned()), "{json} should fail on {field}");
        }
    }

    #[test]
    fn status_transition_table() {
        use ListingStatus::*;
        let allowed = [
            (Draft, Active),
            (Active, Paused),
            (Paused, Active),
            (Draft, Archived),
            (Active, Archived),
            (Paused, Archived),
        ];
        for from in ListingStatus::ALL {
            for to in ListingStatus::ALL {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn patch_rules() {
        let l = Listing::create(request(serde_json::json!({"status": "draft"})), owner(), now()).unwrap();
        let patch = |j: serde_json::Value| serde_json::from_value::<PatchListingRequest>(j).unwrap();
        let p = l.apply(patch(serde_json::json!({"status": "active", "title": "Drill"})), now()).unwrap();
        assert_eq!((p.status, p.version, p.title.as_str()), (ListingStatus::Active, 2, "Drill"));
        assert!(matches!(
            p.apply(patch(serde_json::json!({"status": "draft"})), now()),
            Err(AppError::Conflict { code: "invalid_status_transition", .. })
        ));
        assert!(matches!(
            l.apply(patch(serde_json::json!({})), now()),
            Err(AppError::BadRequest { code: "empty_patch", .. })
        ));
        // Cross-field rules hold on the merged result.
        assert_eq!(
            fields(
                l.apply(patch(serde_json::json!({"daily_price": {"amount": 100, "currency": "USD"}})), now())
                    .unwrap_err()
            ),
            vec!["deposit.currency"]
        );
        assert_eq!(fields(l.apply(patch(serde_json::json!({"min_days": 20})), now()).unwrap_err()), vec!["max_days"]);
        let archived = l.archive(now());
        assert!(matches!(
            archived.apply(patch(serde_json::json!({"title": "x"})), now()),
            Err(AppError::Conflict { code: "listing_archived", .. })
        ));
    }

    #[test]
    fn visibility() {
        let l = Listing::create(request(serde_json::json!({"status": "draft"})), owner(), now()).unwrap();
        let other = UserId::parse("someone").unwrap();
        assert!(l.visible_to(Some(&owner())));
        assert!(!l.visible_to(Some(&other)));
        assert!(!l.visible_to(None));
        let active = l.apply(serde_json::from_value(serde_json::json!({"status": "active"})).unwrap(), now()).unwrap();
        assert!(active.visible_to(None));
    }

    #[test]
    fn if_match() {
        assert!(matches!(check_if_match(None, 3), Err(AppError::PreconditionRequired)));
        assert!(matches!(check_if_match(Some("\"2\""), 3), Err(AppError::PreconditionFailed)));
        assert!(check_if_match(Some("\"3\""), 3).is_ok());
        assert!(check_if_match(Some("W/\"3\""), 3).is_ok());
        assert!(check_if_match(Some("*"), 3).is_ok());
        assert!(matches!(check_if_match(Some("garbage"), 3), Err(AppError::PreconditionFailed)));
    }

    #[test]
    fn ids_never_500() {
        assert!(ListingId::parse(&ListingId::generate().to_string()).is_ok());
        for bad in ["", "x", "LISTING#1", "0192D3F4-0000-7000-8000-000000000000"] {
            assert!(matches!(ListingId::parse(bad), Err(AppError::NotFound(_))), "{bad}");
        }
    }
}
