//! What every list endpoint does around its query: read `limit` and `cursor`, check the cursor
//! against the query it was made for, and sign the next page's cursor into the answer
//! (docs/api.md, "Paging"). The store reads `limit + 1` items to know whether a next page exists.

use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::cursor::{self, CursorKey, LastKey, PageView};
use crate::domain::search::parse_limit;
use crate::error::AppError;
use crate::http::{json, query_pairs};
use crate::ports::{CursorKeys, Page};

/// A request's query parameters, every one of them known to the endpoint.
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// The request's parameters; any not in `known` is 400 `unknown_parameter`.
    pub fn only(req: &Request, known: &[&str]) -> Result<Self, AppError> {
        let params = query_pairs(req);
        if let Some((k, _)) = params.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            return Err(AppError::bad_request(
                "unknown_parameter",
                format!("unknown query parameter {k:?}; known: {}", known.join(", ")),
            ));
        }
        Ok(QueryParams(params))
    }

    /// The first value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// One page request: its size, where it starts, and what its cursors are bound to.
pub struct Paging {
    key: CursorKey,
    bound_to: String,
    pub limit: u32,
    /// The key to continue after, from a cursor made for this same query.
    pub start: Option<LastKey>,
}

impl Paging {
    /// A page of `limit` items after `cursor`, which must have been made for `bound_to` (the
    /// query and whoever asked it): anything else is 400 `invalid_cursor`.
    pub async fn new(
        keys: &impl CursorKeys,
        bound_to: String,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Self, AppError> {
        let key = keys.cursor_key().await?;
        let start = cursor.map(|c| cursor::decode(&key, &bound_to, c)).transpose()?;
        Ok(Paging { key, bound_to, limit, start })
    }

    /// [`Paging::new`] with `limit` and `cursor` read from the query parameters.
    pub async fn from_params(keys: &impl CursorKeys, params: &QueryParams, bound_to: String) -> Result<Self, AppError> {
        let limit = parse_limit(params.get("limit"))?;
        Paging::new(keys, bound_to, limit, params.get("cursor")).await
    }

    /// The page as clients see it: its items and the signed cursor of the next page, if any.
    pub fn view<T: Serialize>(&self, page: Page<T>) -> PageView<T> {
        PageView::new(page.items, &self.key, &self.bound_to, page.last_key.as_ref())
    }

    /// [`Paging::view`] answered as `200 application/json`.
    pub fn respond<T: Serialize>(&self, page: Page<T>) -> Result<Response<Body>, AppError> {
        json(200, &self.view(page))
    }
}

impl<T> Page<T> {
    /// The same page with each item seen through `f` (a view borrowing from it).
    pub fn map_items<'a, U>(&'a self, f: impl Fn(&'a T) -> U) -> Page<U> {
        Page {
            items: self.items.iter().map(f).collect(),
            last_key: self.last_key.clone(),
            items_read: self.items_read,
            bytes_read: self.bytes_read,
            capacity_units: self.capacity_units,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(items: Vec<u32>, last: Option<&str>) -> Page<u32> {
        let last_key = last.map(|k| LastKey::from([("SK".to_owned(), k.to_owned())]));
        Page { items, last_key, items_read: 0, bytes_read: 0, capacity_units: 0.0 }
    }

    fn request(query: &str) -> Request {
        let v = serde_json::json!({
            "version": "2.0", "routeKey": "GET /x", "rawPath": "/x", "rawQueryString": query,
            "queryStringParameters": serde_urlencoded_pairs(query),
            "requestContext": {"http": {"method": "GET", "path": "/x"}, "requestId": "r", "stage": "$default"},
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    fn serde_urlencoded_pairs(query: &str) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
            .collect();
        serde_json::Value::Object(map)
    }

    #[tokio::test]
    async fn next_cursor_continues_the_same_query_only() {
        let keys = CursorKey::new(b"k");
        let first = Paging::new(&keys, "q|alice".into(), 2, None).await.unwrap();
        assert_eq!((first.limit, first.start.clone()), (2, None));
        let view = first.view(page(vec![1, 2], Some("b")));
        let next = view.next_cursor.expect("a next page");
        let second = Paging::new(&keys, "q|alice".into(), 2, Some(&next)).await.unwrap();
        assert_eq!(second.start, Some(LastKey::from([("SK".to_owned(), "b".to_owned())])));
        let foreign = Paging::new(&keys, "q|bob".into(), 2, Some(&next)).await.err().unwrap();
        assert_eq!((foreign.status(), foreign.code()), (400, "invalid_cursor"));
        assert_eq!(second.view(page(vec![3], None)).next_cursor, None, "the last page has no cursor");
    }

    #[tokio::test]
    async fn parameters_are_known_and_limits_checked() {
        let err = QueryParams::only(&request("limit=5&colour=red"), &["limit", "cursor"]).err().unwrap();
        assert_eq!((err.status(), err.code()), (400, "unknown_parameter"));
        let params = QueryParams::only(&request("limit=5"), &["limit", "cursor"]).unwrap();
        assert_eq!(params.get("limit"), Some("5"));
        let paging = Paging::from_params(&CursorKey::new(b"k"), &params, "q".into()).await.unwrap();
        assert_eq!(paging.limit, 5);
        let too_many = QueryParams::only(&request("limit=101"), &["limit"]).unwrap();
        assert!(Paging::from_params(&CursorKey::new(b"k"), &too_many, "q".into()).await.is_err());
    }
}
