//! Listing search without Scan: every filter combination we accept maps to one partition of
//! precomputed search entries, sorted the way the query asks, so a page reads `limit + 1`
//! items however large the table grows. Combinations no partition serves are refused (400)
//! with a message saying which filters combine.
//!
//! Each *active* listing owns `2 x scopes` entries (written in the same transaction as the
//! listing, so search is never stale): scopes `all`, `cat`, `ctry`, `city` (country + city),
//! `cat+ctry`, `cat+city`, `owner`; kinds `new` (newest first) and `price` (by currency, then
//! amount).

use super::country::Country;
use super::listing::{Category, Listing, ListingStatus};
use super::money::{Currency, MAX_AMOUNT};
use super::user::UserId;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Newest,
    PriceAsc,
    PriceDesc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub category: Option<Category>,
    pub country: Option<Country>,
    pub city: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub currency: Option<Currency>,
    pub owner_id: Option<UserId>,
    pub sort: Sort,
    pub limit: u32,
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// One DynamoDB key condition: `PK = partition AND SK BETWEEN lower AND upper`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexQuery {
    pub partition: String,
    pub range: Option<(String, String)>,
    pub ascending: bool,
}

impl IndexQuery {
    /// What a cursor is bound to: a cursor from another query is refused.
    pub fn fingerprint(&self) -> String {
        format!("{}|{:?}|{}", self.partition, self.range, self.ascending)
    }
}

fn invalid(name: &str, why: &str) -> AppError {
    AppError::bad_request("invalid_parameter", format!("{name}: {why}"))
}

fn combination(message: &str) -> AppError {
    AppError::bad_request("unsupported_filter_combination", message)
}

/// Keeps `#`, `/` and `%` out of key parts built from user text.
fn key_part(text: &str) -> String {
    text.replace('%', "%25").replace('#', "%23").replace('/', "%2F")
}

/// The city as keys use it: trimmed, single-spaced, lower case.
pub fn city_key(city: &str) -> String {
    key_part(&city.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase())
}

/// Parses a limit parameter shared by every paginated endpoint.
pub fn parse_limit(raw: Option<&str>) -> Result<u32, AppError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| invalid("limit", "must be 1-100")),
    }
}

impl SearchQuery {
    /// Parses `GET /listings` query parameters. Unknown or repeated parameters are refused.
    pub fn parse(params: &[(String, String)]) -> Result<Self, AppError> {
        const KNOWN: [&str; 10] = [
            "category",
            "country",
            "city",
            "min_price",
            "max_price",
            "currency",
            "owner_id",
            "sort",
            "limit",
            "cursor",
        ];
        let mut seen = std::collections::HashSet::new();
        for (k, _) in params {
            if !KNOWN.contains(&k.as_str()) {
                return Err(AppError::bad_request(
                    "unknown_parameter",
                    format!("unknown query parameter {k:?}; known: {}", KNOWN.join(", ")),
                ));
            }
            if !seen.insert(k.as_str()) {
                return Err(invalid(k, "given more than once"));
            }
        }
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let price = |name: &str| -> Result<Option<i64>, AppError> {
            get(name)
                .map(|v| {
                    v.parse::<i64>()
                        .ok()
                        .filter(|n| (0..=MAX_AMOUNT).contains(n))
                        .ok_or_else(|| invalid(name, "must be a whole number of minor units, 0 or more"))
                })
                .transpose()
        };
        let q = SearchQuery {
            category: get("category")
                .map(|c| Category::parse(c).ok_or_else(|| invalid("category", "unknown category")))
                .transpose()?,
            country: get("country")
                .map(|c| Country::parse(c).ok_or_else(|| invalid("country", "must be an ISO 3166-1 alpha-2 code")))
                .transpose()?,
            city: get("city")
                .map(|c| {
                    let key = city_key(c);
                    if key.is_empty() || c.chars().count() > 100 {
                        Err(invalid("city", "must be 1-100 characters"))
                    } else {
                        Ok(key)
                    }
                })
                .transpose()?,
            min_price: price("min_price")?,
            max_price: price("max_price")?,
            currency: get("currency")
                .map(|c| Currency::parse(c).ok_or_else(|| invalid("currency", "must be a supported ISO 4217 code")))
                .transpose()?,
            owner_id: get("owner_id")
                .map(|o| UserId::parse(o).map_err(|_| invalid("owner_id", "is not a user id")))
                .transpose()?,
            sort: match get("sort").unwrap_or("newest") {
                "newest" => Sort::Newest,
                "price_asc" => Sort::PriceAsc,
                "price_desc" => Sort::PriceDesc,
                _ => return Err(invalid("sort", "must be newest, price_asc or price_desc")),
            },
            limit: parse_limit(get("limit"))?,
            cursor: get("cursor").map(str::to_owned),
        };
        q.check_combination()?;
        Ok(q)
    }

    fn check_combination(&self) -> Result<(), AppError> {
        if self.city.is_some() && self.country.is_none() {
            return Err(combination("city needs country (city names repeat across countries)"));
        }
        if self.owner_id.is_some() && (self.category.is_some() || self.country.is_some()) {
            return Err(combination(
                "owner_id combines with sort and price filters only, not with category, country or city",
            ));
        }
        let price_filter = self.min_price.is_some() || self.max_price.is_some();
        if price_filter && self.currency.is_none() {
            return Err(combination("min_price and max_price need currency"));
        }
        if let (Some(min), Some(max)) = (self.min_price, self.max_price) {
            if min > max {
                return Err(invalid("min_price", "must not exceed max_price"));
            }
        }
        match self.sort {
            Sort::Newest if self.currency.is_some() => {
                Err(combination("currency, min_price and max_price need sort=price_asc or sort=price_desc"))
            }
            Sort::PriceAsc | Sort::PriceDesc if self.currency.is_none() => {
                Err(combination("sorting by price needs currency (prices in different currencies do not compare)"))
            }
            _ => Ok(()),
        }
    }

    fn scope(&self) -> String {
        if let Some(owner) = &self.owner_id {
            return format!("owner={owner}");
        }
        let cat = self.category.map(|c| format!("cat={}", c.as_str()));
        let place = match (self.country, &self.city) {
            (Some(c), Some(city)) => Some(format!("city={}/{city}", c.code())),
            (Some(c), None) => Some(format!("ctry={}", c.code())),
            _ => None,
        };
        match (cat, place) {
            (None, None) => "all".to_owned(),
            (Some(c), None) => c,
            (None, Some(p)) => p,
            (Some(c), Some(p)) => format!("{c}/{p}"),
        }
    }

    /// The one partition and key range that answers this query.
    pub fn index_query(&self) -> IndexQuery {
        let scope = self.scope();
        match (self.sort, self.currency) {
            (Sort::PriceAsc | Sort::PriceDesc, Some(cur)) => {
                let lower = format!("{cur}#{:015}#", self.min_price.unwrap_or(0));
                let upper = format!("{cur}#{:015}#~", self.max_price.unwrap_or(MAX_AMOUNT));
                IndexQuery {
                    partition: format!("SEARCH#{scope}#price"),
                    range: Some((lower, upper)),
                    ascending: self.sort == Sort::PriceAsc,
                }
            }
            _ => IndexQuery { partition: format!("SEARCH#{scope}#new"), range: None, ascending: false },
        }
    }
}

/// The (PK, SK) of every search entry `listing` should have: none unless it is active.
pub fn entry_keys(listing: &Listing) -> Vec<(String, String)> {
    if listing.status != ListingStatus::Active {
        return Vec::new();
    }
    let cat = format!("cat={}", listing.category.as_str());
    let country = listing.location.country.code();
    let ctry = format!("ctry={country}");
    let city = format!("city={country}/{}", city_key(&listing.location.city));
    let scopes = [
        "all".to_owned(),
        cat.clone(),
        ctry.clone(),
        city.clone(),
        format!("{cat}/{ctry}"),
        format!("{cat}/{city}"),
        format!("owner={}", listing.owner_id),
    ];
    let created = listing.created_at.timestamp_millis();
    let newest = format!("{created:013}#{}", listing.id);
    let price =
        format!("{}#{:015}#{created:013}#{}", listing.daily_price.currency, listing.daily_price.amount, listing.id);
    scopes
        .iter()
        .flat_map(|s| [(format!("SEARCH#{s}#new"), newest.clone()), (format!("SEARCH#{s}#price"), price.clone())])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Result<SearchQuery, AppError> {
        SearchQuery::parse(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>())
    }

    fn code(r: Result<SearchQuery, AppError>) -> &'static str {
        r.unwrap_err().code()
    }

    #[test]
    fn refusals_name_the_rule() {
        assert_eq!(code(q(&[("colour", "red")])), "unknown_parameter");
        assert_eq!(code(q(&[("limit", "0")])), "invalid_parameter");
        assert_eq!(code(q(&[("limit", "101")])), "invalid_parameter");
        assert_eq!(code(q(&[("category", "boats")])), "invalid_parameter");
        assert_eq!(code(q(&[("sort", "oldest")])), "invalid_parameter");
        assert_eq!(code(q(&[("city", "Berlin")])), "unsupported_filter_combination");
        assert_eq!(code(q(&[("min_price", "100"), ("sort", "price_asc")])), "unsupported_filter_combination");
        assert_eq!(code(q(&[("currency", "EUR")])), "unsupported_filter_combination");
        assert_eq!(code(q(&[("sort", "price_desc")])), "unsupported_filter_combination");
        assert_eq!(code(q(&[("owner_id", "u1"), ("category", "tools")])), "unsupported_filter_combination");
        assert_eq!(
            code(q(&[("min_price", "5"), ("max_price", "4"), ("currency", "EUR"), ("sort", "price_asc")])),
            "invalid_parameter"
        );
        assert_eq!(code(q(&[("limit", "5"), ("limit", "6")])), "invalid_parameter");
    }

    #[test]
    fn every_accepted_combination_maps_to_one_partition() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "SEARCH#all#new"),
            (&[("category", "tools")], "SEARCH#cat=tools#new"),
            (&[("country", "de")], "SEARCH#ctry=DE#new"),
            (&[("country", "DE"), ("city", "  Frankfurt am  Main ")], "SEARCH#city=DE/frankfurt am main#new"),
            (&[("category", "bikes"), ("country", "NL")], "SEARCH#cat=bikes/ctry=NL#new"),
            (&[("category", "bikes"), ("country", "NL"), ("city", "Utrecht")], "SEARCH#cat=bikes/city=NL/utrecht#new"),
            (&[("owner_id", "u1")], "SEARCH#owner=u1#new"),
            (&[("currency", "EUR"), ("sort", "price_asc")], "SEARCH#all#price"),
        ];
        for (params, partition) in cases {
            assert_eq!(q(params).unwrap().index_query().partition, *partition, "{params:?}");
        }
        let iq = q(&[("currency", "EUR"), ("sort", "price_desc"), ("min_price", "100"), ("max_price", "2000")])
            .unwrap()
            .index_query();
        assert_eq!(iq.range, Some(("EUR#000000000000100#".into(), "EUR#000000000002000#~".into())));
        assert!(!iq.ascending);
    }

    #[test]
    fn entries_cover_every_scope_of_an_active_listing() {
        let mut l = crate::domain::listing::Listing::create(
            serde_json::from_value(serde_json::json!({
                "title": "Tent", "category": "outdoor", "location": {"city": "Frankfurt am Main", "country": "DE"},
                "daily_price": {"amount": 1500, "currency": "EUR"}, "deposit": {"amount": 0, "currency": "EUR"},
                "min_days": 1, "max_days": 7, "booking_mode": "request", "status": "active"
            }))
            .unwrap(),
            UserId::parse("u9").unwrap(),
            chrono::Utc::now(),
        )
        .unwrap();
        let keys = entry_keys(&l);
        assert_eq!(keys.len(), 14);
        // Every query that should find it addresses a partition it is in.
        for params in [
            vec![],
            vec![("category", "outdoor")],
            vec![("country", "DE"), ("city", "frankfurt AM main")],
            vec![("owner_id", "u9")],
            vec![("category", "outdoor"), ("country", "DE")],
        ] {
            let iq = q(&params).unwrap().index_query();
            assert!(keys.iter().any(|(pk, _)| *pk == iq.partition), "{params:?}");
        }
        let iq = q(&[("currency", "EUR"), ("sort", "price_asc"), ("min_price", "1500"), ("max_price", "1500")])
            .unwrap()
            .index_query();
        let (lo, hi) = iq.range.unwrap();
        assert!(keys.iter().any(|(pk, sk)| *pk == iq.partition && *sk >= lo && *sk <= hi));
        l.status = ListingStatus::Paused;
        assert!(entry_keys(&l).is_empty(), "only active listings are searchable");
    }
}

/// What a search result shows of a listing; stored on each search entry, so a page of
/// results reads only the entries.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ListingSummary {
    pub id: String,
    pub title: String,
    pub category: String,
    pub city: String,
    pub country: String,
    pub daily_price: crate::domain::money::Money,
    pub owner_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&Listing> for ListingSummary {
    fn from(l: &Listing) -> Self {
        ListingSummary {
            id: l.id.to_string(),
            title: l.title.clone(),
            category: l.category.as_str().to_owned(),
            city: l.location.city.clone(),
            country: l.location.country.code().to_owned(),
            daily_price: l.daily_price,
            owner_id: l.owner_id.to_string(),
            created_at: l.created_at,
        }
    }
}
