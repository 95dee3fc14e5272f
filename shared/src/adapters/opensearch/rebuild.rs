//! What rebuilding the index needs of the engine (the rebuild script, decision 0034): the
//! indexes behind the alias, a new one made from the mapping file, writes into it directly,
//! and the alias moved to it in one atomic `_aliases` request, so searches never see a
//! half-built index.

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::{engine_error, OpenSearch, INDEX_DEFINITION};
use crate::domain::search_index::IndexChange;
use crate::error::AppError;

/// `{alias}-v{n+1}` after the highest `{alias}-v{n}` in `existing` (`-v1` when none).
pub fn next_index_name(alias: &str, existing: &[String]) -> String {
    let prefix = format!("{alias}-v");
    let highest = existing.iter().filter_map(|i| i.strip_prefix(&prefix)?.parse::<u32>().ok()).max().unwrap_or(0);
    format!("{prefix}{}", highest + 1)
}

impl OpenSearch {
    /// The indexes the alias points at; none when it does not exist.
    pub async fn indexes_behind_alias(&self) -> Result<Vec<String>, AppError> {
        let response = self.call(Method::GET, &format!("/_alias/{}", self.alias), None, false).await?;
        match response.status {
            StatusCode::NOT_FOUND => Ok(Vec::new()),
            s if s.is_success() => {
                let body: Value = serde_json::from_slice(&response.body).map_err(AppError::internal)?;
                let mut names: Vec<String> = body.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                names.sort();
                Ok(names)
            }
            s => Err(engine_error("reading the alias", s, &response.body)),
        }
    }

    /// Creates `index` from the mapping file, with no alias yet.
    pub async fn create_index(&self, index: &str) -> Result<(), AppError> {
        let response = self
            .call(Method::PUT, &format!("/{index}"), Some(Bytes::from_static(INDEX_DEFINITION.as_bytes())), false)
            .await?;
        if !response.status.is_success() {
            return Err(engine_error("creating an index", response.status, &response.body));
        }
        Ok(())
    }

    /// Writes `changes` straight into `index` (one being built), at the listings' versions.
    pub async fn write_to(&self, index: &str, changes: &[IndexChange]) -> Result<Vec<Result<(), AppError>>, AppError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        self.bulk(index, changes).await
    }

    /// Points the alias at `to` alone, leaving `from`, in one atomic step.
    pub async fn move_alias(&self, from: &[String], to: &str) -> Result<(), AppError> {
        let mut actions: Vec<Value> =
            from.iter().map(|index| json!({ "remove": { "index": index, "alias": self.alias } })).collect();
        actions.push(json!({ "add": { "index": to, "alias": self.alias } }));
        let body = Bytes::from(json!({ "actions": actions }).to_string());
        let response = self.call(Method::POST, "/_aliases", Some(body), false).await?;
        if !response.status.is_success() {
            return Err(engine_error("moving the alias", response.status, &response.body));
        }
        Ok(())
    }

    pub async fn delete_index(&self, index: &str) -> Result<(), AppError> {
        let response = self.call(Method::DELETE, &format!("/{index}"), None, false).await?;
        if !response.status.is_success() && response.status != StatusCode::NOT_FOUND {
            return Err(engine_error("deleting an index", response.status, &response.body));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rebuild_takes_the_next_version() {
        assert_eq!(next_index_name("listings", &[]), "listings-v1");
        let existing = ["listings-v2".to_owned(), "listings-v10".to_owned(), "listings-old".to_owned()];
        assert_eq!(next_index_name("listings", &existing), "listings-v11");
    }
}
