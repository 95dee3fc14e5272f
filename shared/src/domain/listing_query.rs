//! `GET /listings` as the search engine answers it: words, a place (a circle or a map box),
//! the dates a renter wants, the catalogue filters, and a sort. Parsed once here, so the
//! engine adapter builds its query from valid values only; every refusal names the parameter.

use chrono::NaiveDate;

use super::booking::{DateRange, MAX_RANGE_DAYS};
use super::country::Country;
use super::listing::Category;
use super::money::{Currency, MAX_AMOUNT};
use super::search::{city_key, parse_limit};
use super::user::UserId;
use crate::error::AppError;

pub const MAX_TEXT_CHARS: usize = 200;
pub const MAX_RADIUS_KM: f64 = 200.0;
pub const DEFAULT_RADIUS_KM: f64 = 25.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Place {
    /// Within `radius_km` of a point.
    Near { lat: f64, lng: f64, radius_km: f64 },
    /// Inside a map box (not across the antimeridian).
    Within { min_lng: f64, min_lat: f64, max_lng: f64, max_lat: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchSort {
    Relevance,
    Distance,
    Newest,
    PriceAsc,
    PriceDesc,
    /// Best rated first (decision 0038).
    Rating,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListingQuery {
    pub text: Option<String>,
    pub category: Option<Category>,
    pub country: Option<Country>,
    /// As `city_key` normalises it (trimmed, single-spaced, lower case).
    pub city: Option<String>,
    pub owner_id: Option<UserId>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub currency: Option<Currency>,
    pub place: Option<Place>,
    /// Every day `[from, to)` free, and a stay of that length allowed by the listing.
    pub dates: Option<DateRange>,
    pub sort: SearchSort,
    pub limit: u32,
    pub cursor: Option<String>,
}

const KNOWN: [&str; 17] = [
    "q",
    "category",
    "country",
    "city",
    "owner_id",
    "min_price",
    "max_price",
    "currency",
    "near",
    "radius_km",
    "bbox",
    "available_from",
    "available_to",
    "sort",
    "limit",
    "cursor",
    "facets",
];

fn invalid(name: &str, why: &str) -> AppError {
    AppError::bad_request("invalid_parameter", format!("{name}: {why}"))
}

/// Comma-separated finite numbers, exactly `n` of them.
fn numbers(name: &str, raw: &str, n: usize, shape: &str) -> Result<Vec<f64>, AppError> {
    let values: Vec<f64> =
        raw.split(',').filter_map(|p| p.trim().parse::<f64>().ok().filter(|v| v.is_finite())).collect();
    if values.len() != n || raw.split(',').count() != n {
        return Err(invalid(name, &format!("must be {shape}")));
    }
    Ok(values)
}

fn latitude(name: &str, v: f64) -> Result<f64, AppError> {
    (-90.0..=90.0).contains(&v).then_some(v).ok_or_else(|| invalid(name, "latitudes are -90 to 90"))
}

fn longitude(name: &str, v: f64) -> Result<f64, AppError> {
    (-180.0..=180.0).contains(&v).then_some(v).ok_or_else(|| invalid(name, "longitudes are -180 to 180"))
}

impl ListingQuery {
    /// Parses the query parameters; `today` bounds the dates (no search in the past).
    pub fn parse(params: &[(String, String)], today: NaiveDate) -> Result<Self, AppError> {
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
        let text = get("q").map(parse_text).transpose()?;
        let place = parse_place(get("near"), get("radius_km"), get("bbox"))?;
        let query = ListingQuery {
            category: get("category")
                .map(|c| Category::parse(c).ok_or_else(|| invalid("category", "unknown category")))
                .transpose()?,
            country: get("country")
                .map(|c| Country::parse(c).ok_or_else(|| invalid("country", "must be an ISO 3166-1 alpha-2 code")))
                .transpose()?,
            city: get("city")
                .map(|c| {
                    let key = city_key(c);
                    (!key.is_empty() && c.chars().count() <= 100)
                        .then_some(key)
                        .ok_or_else(|| invalid("city", "must be 1-100 characters"))
                })
                .transpose()?,
            owner_id: get("owner_id")
                .map(|o| UserId::parse(o).map_err(|_| invalid("owner_id", "is not a user id")))
                .transpose()?,
            min_price: price("min_price")?,
            max_price: price("max_price")?,
            currency: get("currency")
                .map(|c| Currency::parse(c).ok_or_else(|| invalid("currency", "must be a supported ISO 4217 code")))
                .transpose()?,
            dates: parse_dates(get("available_from"), get("available_to"), today)?,
            sort: parse_sort(get("sort"), text.is_some(), place)?,
            text,
            place,
            limit: parse_limit(get("limit"))?,
            cursor: get("cursor").map(str::to_owned),
        };
        if get("facets").is_some_and(|f| f != "true") {
            return Err(invalid("facets", "the only value is true (facets are always returned)"));
        }
        query.check_prices()?;
        Ok(query)
    }

    fn check_prices(&self) -> Result<(), AppError> {
        let combination = |m: &str| AppError::bad_request("unsupported_filter_combination", m);
        if (self.min_price.is_some() || self.max_price.is_some()) && self.currency.is_none() {
            return Err(combination("min_price and max_price need currency"));
        }
        if let (Some(min), Some(max)) = (self.min_price, self.max_price) {
            if min > max {
                return Err(invalid("min_price", "must not exceed max_price"));
            }
        }
        if matches!(self.sort, SearchSort::PriceAsc | SearchSort::PriceDesc) && self.currency.is_none() {
            return Err(combination("sorting by price needs currency (prices in different currencies do not compare)"));
        }
        Ok(())
    }

    /// What a cursor is bound to: the whole query but its page size and cursor.
    pub fn fingerprint(&self) -> String {
        let mut q = self.clone();
        q.cursor = None;
        q.limit = 0;
        format!("engine|{q:?}")
    }
}

fn parse_text(raw: &str) -> Result<String, AppError> {
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() || raw.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid("q", "must be 1-200 characters"));
    }
    Ok(text)
}

fn parse_place(near: Option<&str>, radius: Option<&str>, bbox: Option<&str>) -> Result<Option<Place>, AppError> {
    match (near, bbox) {
        (Some(_), Some(_)) => Err(invalid("bbox", "near and bbox exclude each other")),
        (Some(near), None) => {
            let v = numbers("near", near, 2, "lat,lng")?;
            let radius_km = match radius {
                None => DEFAULT_RADIUS_KM,
                Some(r) => r
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r > 0.0 && *r <= MAX_RADIUS_KM)
                    .ok_or_else(|| invalid("radius_km", "must be more than 0 and at most 200"))?,
            };
            Ok(Some(Place::Near { lat: latitude("near", v[0])?, lng: longitude("near", v[1])?, radius_km }))
        }
        (None, Some(bbox)) => {
            if radius.is_some() {
                return Err(invalid("radius_km", "goes with near"));
            }
            let v = numbers("bbox", bbox, 4, "min_lng,min_lat,max_lng,max_lat")?;
            let (min_lng, min_lat) = (longitude("bbox", v[0])?, latitude("bbox", v[1])?);
            let (max_lng, max_lat) = (longitude("bbox", v[2])?, latitude("bbox", v[3])?);
            if min_lng >= max_lng || min_lat >= max_lat {
                return Err(invalid("bbox", "the minimums must be below the maximums"));
            }
            Ok(Some(Place::Within { min_lng, min_lat, max_lng, max_lat }))
        }
        (None, None) if radius.is_some() => Err(invalid("radius_km", "goes with near")),
        (None, None) => Ok(None),
    }
}

fn parse_dates(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<Option<DateRange>, AppError> {
    let (from, to) = match (from, to) {
        (None, None) => return Ok(None),
        (Some(f), Some(t)) => (f, t),
        (None, Some(_)) => return Err(invalid("available_from", "goes with available_to")),
        (Some(_), None) => return Err(invalid("available_to", "goes with available_from")),
    };
    let day = |name: &str, raw: &str| {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| invalid(name, "must be a date as YYYY-MM-DD"))
    };
    let (start, end) = (day("available_from", from)?, day("available_to", to)?);
    let range = DateRange::new(start, end)
        .map_err(|_| invalid("available_to", "must be after available_from (the end is exclusive)"))?;
    if start < today {
        return Err(invalid("available_from", "must not be in the past"));
    }
    if range.days() > MAX_RANGE_DAYS {
        return Err(invalid("available_to", "a stay is at most 90 days"));
    }
    Ok(Some(range))
}

fn parse_sort(raw: Option<&str>, has_text: bool, place: Option<Place>) -> Result<SearchSort, AppError> {
    let near = matches!(place, Some(Place::Near { .. }));
    let sort = match raw {
        None if has_text => SearchSort::Relevance,
        None if near => SearchSort::Distance,
        None => SearchSort::Newest,
        Some("relevance") => SearchSort::Relevance,
        Some("distance") => SearchSort::Distance,
        Some("newest") => SearchSort::Newest,
        Some("price_asc") => SearchSort::PriceAsc,
        Some("price_desc") => SearchSort::PriceDesc,
        Some("rating") => SearchSort::Rating,
        Some(_) => return Err(invalid("sort", "must be relevance, distance, newest, price_asc, price_desc or rating")),
    };
    match sort {
        SearchSort::Relevance if !has_text => Err(invalid("sort", "relevance needs q")),
        SearchSort::Distance if !near => Err(invalid("sort", "distance needs near")),
        s => Ok(s),
    }
}

/// Great-circle distance in km (haversine, mean Earth radius): what `distance_km` shows.
pub fn distance_km(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lng2 - lng1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0088 * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        "2026-12-01".parse().unwrap()
    }

    fn q(pairs: &[(&str, &str)]) -> Result<ListingQuery, AppError> {
        ListingQuery::parse(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>(), today())
    }

    fn refusal(pairs: &[(&str, &str)]) -> (String, String) {
        let err = q(pairs).unwrap_err();
        let detail = err.to_problem("r").detail;
        (err.code().to_owned(), detail.split(':').next().unwrap_or_default().to_owned())
    }

    #[test]
    fn every_bad_parameter_is_refused_by_name() {
        let long = "x".repeat(201);
        for (pairs, field) in [
            (vec![("q", "  ")], "q"),
            (vec![("q", long.as_str())], "q"),
            (vec![("near", "52.5")], "near"),
            (vec![("near", "91,13")], "near"),
            (vec![("near", "52.5,181")], "near"),
            (vec![("near", "52.5,13.4,1")], "near"),
            (vec![("near", "NaN,13")], "near"),
            (vec![("near", "52.5,13.4"), ("radius_km", "201")], "radius_km"),
            (vec![("near", "52.5,13.4"), ("radius_km", "0")], "radius_km"),
            (vec![("radius_km", "5")], "radius_km"),
            (vec![("bbox", "13,52,14")], "bbox"),
            (vec![("bbox", "14,52,13,53")], "bbox"),
            (vec![("bbox", "13,52,14,53"), ("near", "52.5,13.4")], "bbox"),
            (vec![("available_from", "2026-12-05")], "available_to"),
            (vec![("available_from", "2026-12-05"), ("available_to", "2026-12-05")], "available_to"),
            (vec![("available_from", "2026-12-05"), ("available_to", "2027-03-06")], "available_to"),
            (vec![("available_from", "2026-11-30"), ("available_to", "2026-12-02")], "available_from"),
            (vec![("available_from", "5.12.2026"), ("available_to", "2026-12-07")], "available_from"),
            (vec![("sort", "relevance")], "sort"),
            (vec![("sort", "distance")], "sort"),
            (vec![("sort", "cheapest")], "sort"),
            (vec![("facets", "false")], "facets"),
            (vec![("limit", "0")], "limit"),
            (vec![("q", "a"), ("q", "b")], "q"),
        ] {
            assert_eq!(refusal(&pairs), ("invalid_parameter".to_owned(), field.to_owned()), "{pairs:?}");
        }
        assert_eq!(refusal(&[("colour", "red")]).0, "unknown_parameter");
        assert_eq!(refusal(&[("min_price", "5")]).0, "unsupported_filter_combination");
        assert_eq!(refusal(&[("sort", "price_asc")]).0, "unsupported_filter_combination");
    }

    #[test]
    fn defaults_and_combinations_the_engine_allows() {
        assert_eq!(q(&[]).unwrap().sort, SearchSort::Newest);
        assert_eq!(q(&[("q", " drill  ")]).unwrap().text.as_deref(), Some("drill"));
        assert_eq!(q(&[("q", "drill")]).unwrap().sort, SearchSort::Relevance);
        let near = q(&[("near", "52.52,13.405")]).unwrap();
        assert_eq!(near.sort, SearchSort::Distance);
        assert_eq!(near.place, Some(Place::Near { lat: 52.52, lng: 13.405, radius_km: 25.0 }));
        // What the DynamoDB entries could not serve: a city in any country, an owner with a
        // category, a currency with the newest first.
        let q1 = q(&[("city", " Frankfurt am  Main"), ("owner_id", "u1"), ("category", "tools"), ("currency", "EUR")])
            .unwrap();
        assert_eq!(q1.city.as_deref(), Some("frankfurt am main"));
        let dates = q(&[("available_from", "2026-12-01"), ("available_to", "2026-12-04")]).unwrap().dates.unwrap();
        assert_eq!(dates.days(), 3);
        assert_ne!(q(&[("q", "drill")]).unwrap().fingerprint(), q(&[("q", "drills")]).unwrap().fingerprint());
        assert_eq!(
            q(&[("q", "drill"), ("limit", "5")]).unwrap().fingerprint(),
            q(&[("q", "drill"), ("limit", "9")]).unwrap().fingerprint(),
            "a cursor outlives a change of page size"
        );
    }

    #[test]
    fn distances_are_great_circle_km() {
        let berlin_hamburg = distance_km(52.52, 13.405, 53.551, 9.994);
        assert!((berlin_hamburg - 255.0).abs() < 3.0, "{berlin_hamburg}");
        assert_eq!(distance_km(1.0, 2.0, 1.0, 2.0), 0.0);
    }
}
