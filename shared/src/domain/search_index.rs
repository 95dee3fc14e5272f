//! What the search engine holds of a listing: one document per *active* listing, with the
//! days it cannot be booked as merged ranges, so "free on these dates" is one `must_not`
//! range query. The fields are the index mapping's (`shared/search/listings-index.json`);
//! a unit test keeps the two in step.

use crate::domain::review::RatingTotals;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::booking::merge_days;
use super::listing::{Listing, ListingId, ListingStatus};
use super::money::Money;
use super::search::city_key;

/// A listing's search document (`_source`): what a result shows, and what queries filter on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchDocument {
    pub id: String,
    pub title: String,
    pub description: String,
    pub category: &'static str,
    pub country: &'static str,
    /// The city as the owner wrote it (shown) and as filters match it (trimmed, lower case).
    pub city: String,
    pub city_key: String,
    pub owner_id: String,
    pub daily_price: Money,
    pub min_days: u16,
    pub max_days: u16,
    pub created_at: DateTime<Utc>,
    /// Absent when the listing has no coordinates: it is then never found by distance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    /// Held and blocked days from the day it was indexed, merged: `[gte, lt)`.
    pub unavailable: Vec<DayRange>,
    /// Renters' published reviews (decision 0038), for `sort=rating` and the results.
    pub rating: DocRating,
}

/// A listing's rating as its document holds it: `average` 0 without reviews (real averages are
/// 1 to 5), so unrated listings sort last without a `missing` rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DocRating {
    pub average: f64,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

/// A `date_range` value: days `[gte, lt)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayRange {
    pub gte: NaiveDate,
    pub lt: NaiveDate,
}

/// What to tell the index about one listing, at the listing's version: the index refuses a
/// change older than what it holds (external versioning), so a replayed or late write never
/// regresses a document.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexChange {
    Put { id: ListingId, version: u64, doc: Box<SearchDocument> },
    Remove { id: ListingId, version: u64 },
}

impl IndexChange {
    /// The change that makes the index agree with `listing` and its held or blocked days:
    /// a document if it is active, none otherwise (drafts, paused and archived listings are
    /// not searchable).
    pub fn of(listing: &Listing, unavailable_days: Vec<NaiveDate>, rating: RatingTotals) -> Self {
        if listing.status != ListingStatus::Active {
            return IndexChange::Remove { id: listing.id.clone(), version: listing.version };
        }
        let location = match (listing.location.lat, listing.location.lng) {
            (Some(lat), Some(lon)) => Some(GeoPoint { lat, lon }),
            _ => None,
        };
        let doc = SearchDocument {
            id: listing.id.to_string(),
            title: listing.title.clone(),
            description: listing.description.clone(),
            category: listing.category.as_str(),
            country: listing.location.country.code(),
            city: listing.location.city.clone(),
            city_key: city_key(&listing.location.city),
            owner_id: listing.owner_id.to_string(),
            daily_price: listing.daily_price,
            min_days: listing.min_days,
            max_days: listing.max_days,
            created_at: listing.created_at,
            location,
            unavailable: merge_days(unavailable_days)
                .into_iter()
                .map(|r| DayRange { gte: r.start, lt: r.end })
                .collect(),
            rating: DocRating { average: rating.average().unwrap_or(0.0), count: rating.count },
        };
        IndexChange::Put { id: listing.id.clone(), version: listing.version, doc: Box::new(doc) }
    }

    pub fn id(&self) -> &ListingId {
        match self {
            IndexChange::Put { id, .. } | IndexChange::Remove { id, .. } => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::UserId;

    fn listing(status: &str, location: serde_json::Value) -> Listing {
        Listing::create(
            serde_json::from_value(serde_json::json!({
                "title": "Cordless drill", "description": "Two batteries", "category": "tools",
                "location": location, "daily_price": {"amount": 1500, "currency": "EUR"},
                "deposit": {"amount": 0, "currency": "EUR"}, "min_days": 1, "max_days": 7,
                "booking_mode": "request", "status": status
            }))
            .unwrap(),
            UserId::parse("u9").unwrap(),
            chrono::Utc::now(),
        )
        .unwrap()
    }

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    #[test]
    fn an_active_listing_is_a_document_with_merged_unavailable_ranges() {
        let l = listing("active", serde_json::json!({"city": " Berlin ", "country": "DE", "lat": 52.5, "lng": 13.4}));
        let days = vec![day("2026-12-03"), day("2026-12-01"), day("2026-12-02"), day("2026-12-09")];
        let IndexChange::Put { version, doc, .. } = IndexChange::of(&l, days, Default::default()) else {
            panic!("not a put")
        };
        assert_eq!(version, l.version);
        assert_eq!(
            doc.unavailable,
            vec![
                DayRange { gte: day("2026-12-01"), lt: day("2026-12-04") },
                DayRange { gte: day("2026-12-09"), lt: day("2026-12-10") }
            ]
        );
        assert_eq!(doc.location, Some(GeoPoint { lat: 52.5, lon: 13.4 }));
        assert_eq!((doc.city_key.as_str(), doc.country, doc.category), ("berlin", "DE", "tools"));
    }

    #[test]
    fn the_rating_is_an_average_or_zero() {
        let l = listing("active", serde_json::json!({"city": "Berlin", "country": "DE"}));
        let IndexChange::Put { doc, .. } = IndexChange::of(&l, vec![], RatingTotals { sum: 14, count: 3 }) else {
            panic!("not a put")
        };
        assert_eq!(doc.rating, DocRating { average: 4.67, count: 3 });
        let IndexChange::Put { doc, .. } = IndexChange::of(&l, vec![], RatingTotals::default()) else { panic!() };
        assert_eq!(doc.rating, DocRating { average: 0.0, count: 0 }, "unrated sorts last");
    }

    #[test]
    fn without_coordinates_there_is_no_location_and_inactive_listings_are_removed() {
        let l = listing("active", serde_json::json!({"city": "Berlin", "country": "DE"}));
        let IndexChange::Put { doc, .. } = IndexChange::of(&l, vec![], Default::default()) else { panic!("not a put") };
        assert!(serde_json::to_value(&doc).unwrap().get("location").is_none());
        let mut l = listing("draft", serde_json::json!({"city": "Berlin", "country": "DE"}));
        assert!(matches!(IndexChange::of(&l, vec![], Default::default()), IndexChange::Remove { .. }), "a draft");
        l.status = ListingStatus::Paused;
        assert!(matches!(IndexChange::of(&l, vec![], Default::default()), IndexChange::Remove { .. }), "paused");
    }

    #[test]
    fn documents_have_exactly_the_mapped_fields() {
        let mapping: serde_json::Value =
            serde_json::from_str(include_str!("../../search/listings-index.json")).unwrap();
        let mapped = mapping["mappings"]["properties"].as_object().unwrap();
        let l = listing("active", serde_json::json!({"city": "Berlin", "country": "DE", "lat": 1.0, "lng": 2.0}));
        let IndexChange::Put { doc, .. } = IndexChange::of(&l, vec![day("2026-12-01")], Default::default()) else {
            panic!()
        };
        let doc = serde_json::to_value(&doc).unwrap();
        let mut written: Vec<&String> = doc.as_object().unwrap().keys().collect();
        let mut declared: Vec<&String> = mapped.keys().collect();
        written.sort();
        declared.sort();
        assert_eq!(written, declared, "the mapping is strict: an unmapped field would be refused");
        let price = mapped["daily_price"]["properties"].as_object().unwrap();
        assert!(price.contains_key("amount") && price.contains_key("currency"));
    }
}
