//! What search shares with the rest of the API: a result's summary of a listing, the city as
//! filters match it, and the page-size parameter every list takes. The query itself is
//! `listing_query` (decision 0034).

use super::listing::Listing;
use crate::error::AppError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// The city as filters match it: trimmed, single-spaced, lower case, with `#`, `/` and `%`
/// escaped (it was part of DynamoDB keys, and stays as stable as a key).
pub fn city_key(city: &str) -> String {
    let spaced = city.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    spaced.replace('%', "%25").replace('#', "%23").replace('/', "%2F")
}

/// Parses a limit parameter shared by every paginated endpoint.
pub fn parse_limit(raw: Option<&str>) -> Result<u32, AppError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| AppError::bad_request("invalid_parameter", "limit: must be 1-100")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cities_match_whatever_their_spacing_and_case() {
        assert_eq!(city_key("  Frankfurt am  Main "), "frankfurt am main");
        assert_eq!(city_key("A/B#C"), "a%2Fb%23c");
        assert_eq!(parse_limit(Some("0")).unwrap_err().code(), "invalid_parameter");
        assert_eq!(parse_limit(None).unwrap(), 20);
    }
}

/// What a search result shows of a listing (from its search document, so a page reads
/// nothing else).
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
