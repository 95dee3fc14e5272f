//! An in-memory search index, versioned as the engine versions documents (`external_gte`),
//! and what the index contract reads back from an index, fake or real.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::adapters::opensearch::OpenSearch;
use crate::domain::listing::ListingId;
use crate::domain::search_index::IndexChange;
use crate::error::AppError;
use crate::ports::SearchIndex;

/// Documents by listing id: the version last written and the document (`None`: removed).
#[derive(Default)]
pub struct MemoryIndex {
    pub docs: Mutex<HashMap<String, (u64, Option<serde_json::Value>)>>,
    /// Listings whose writes the index refuses (a mapping error, say).
    pub refusing: Mutex<HashSet<String>>,
    /// When set, the index cannot be reached at all.
    pub down: Mutex<bool>,
}

#[async_trait]
impl SearchIndex for MemoryIndex {
    async fn apply(&self, changes: &[IndexChange]) -> Result<Vec<Result<(), AppError>>, AppError> {
        if *lock(&self.down) {
            return Err(AppError::Unavailable { dependency: "search".into() });
        }
        let mut docs = lock(&self.docs);
        let refusing = lock(&self.refusing);
        Ok(changes
            .iter()
            .map(|change| {
                let id = change.id().to_string();
                if refusing.contains(&id) {
                    return Err(AppError::internal(format!("{id} refused")));
                }
                let (version, doc) = match change {
                    IndexChange::Put { version, doc, .. } => {
                        (*version, Some(serde_json::to_value(doc).map_err(AppError::internal)?))
                    }
                    IndexChange::Remove { version, .. } => (*version, None),
                };
                if docs.get(&id).is_none_or(|(held, _)| version >= *held) {
                    docs.insert(id, (version, doc));
                }
                Ok(())
            })
            .collect())
    }
}

/// What the index holds of one listing: its version and `_source`, if it has a document.
#[async_trait]
pub trait InspectIndex: SearchIndex {
    async fn document(&self, id: &ListingId) -> Result<Option<(u64, serde_json::Value)>, String>;
}

#[async_trait]
impl InspectIndex for MemoryIndex {
    async fn document(&self, id: &ListingId) -> Result<Option<(u64, serde_json::Value)>, String> {
        Ok(lock(&self.docs).get(&id.to_string()).and_then(|(v, d)| d.clone().map(|d| (*v, d))))
    }
}

#[async_trait]
impl InspectIndex for OpenSearch {
    async fn document(&self, id: &ListingId) -> Result<Option<(u64, serde_json::Value)>, String> {
        let response = self
            .call(http::Method::GET, &format!("/{}/_doc/{id}", self.alias()), None, false)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let body: serde_json::Value = serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
        match response.status.as_u16() {
            200 => Ok(Some((body["_version"].as_u64().unwrap_or(0), body["_source"].clone()))),
            404 => Ok(None),
            s => Err(format!("GET document: {s} {body}")),
        }
    }
}
