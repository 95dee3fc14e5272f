//! The search engine: OpenSearch's REST API over our plain-HTTPS client, signed with SigV4 for
//! the `aoss` service (an OpenSearch Serverless collection; `es` for a managed domain), with
//! the `x-amz-content-sha256` header Serverless requires. Locally the endpoint is osmem-server on
//! loopback, which ignores the signature.
//!
//! Searches and writes go through an alias (`SEARCH_INDEX`, `listings` unless the stack names
//! its own); the index behind it (`{alias}-v1`) is created with the mapping in
//! `shared/search/listings-index.json` on first use, and replaced by
//! the rebuild script issue 24 asks for (a new index, then the alias moved), so the deployed and the local index
//! are made from the same file.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};
use tokio::sync::OnceCell;

use super::http_client::{LazyClient, Response};
use crate::config::{env_required, ConfigError};
use crate::domain::search_index::IndexChange;
use crate::error::AppError;
use crate::ports::{HealthProbe, SearchIndex};

mod find;
mod rebuild;
pub use rebuild::next_index_name;

/// Settings and mappings of every listings index.
pub const INDEX_DEFINITION: &str = include_str!("../../../search/listings-index.json");

const DEP: &str = "search";

struct Signer {
    credentials: SharedCredentialsProvider,
    region: String,
    service: String,
}

pub struct OpenSearch {
    endpoint: String,
    /// The alias every read and write names.
    alias: String,
    http: LazyClient,
    signer: Option<Signer>,
    index_ready: OnceCell<()>,
}

impl OpenSearch {
    /// `SEARCH_ENDPOINT` (the collection's endpoint) and `SEARCH_INDEX` (the alias), signed as
    /// `SEARCH_SIGNING_SERVICE` (default `aoss`) with the function's credentials.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let endpoint = env_required("SEARCH_ENDPOINT")?;
        let alias = std::env::var("SEARCH_INDEX").unwrap_or_else(|_| "listings".to_owned());
        let service = std::env::var("SEARCH_SIGNING_SERVICE").unwrap_or_else(|_| "aoss".to_owned());
        let signer = match (config.credentials_provider(), config.region()) {
            (Some(credentials), Some(region)) => Some(Signer { credentials, region: region.to_string(), service }),
            _ => None,
        };
        Ok(Self::new(&endpoint, &alias, signer))
    }

    fn new(endpoint: &str, alias: &str, signer: Option<Signer>) -> Self {
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            alias: alias.to_owned(),
            http: LazyClient::new(Duration::from_secs(10)),
            signer,
            index_ready: OnceCell::new(),
        }
    }

    /// An unsigned client of `endpoint` and `alias` (tests against the local stand-in).
    pub fn unsigned(endpoint: &str, alias: &str) -> Self {
        Self::new(endpoint, alias, None)
    }

    /// The alias every read and write names.
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// Sends one request; any answer is returned, no answer is `Unavailable`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        ndjson: bool,
    ) -> Result<Response, AppError> {
        let body = body.unwrap_or_default();
        let url = format!("{}{path}", self.endpoint);
        let mut request = Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", if ndjson { "application/x-ndjson" } else { "application/json" })
            .body(Full::new(body.clone()))
            .map_err(AppError::internal)?;
        if let Some(signer) = &self.signer {
            signer.sign(&mut request, &url, &body).await?;
        }
        self.http.send(request).await.map_err(|e| {
            tracing::warn!(error = %e, "search engine unreachable");
            AppError::Unavailable { dependency: DEP.into() }
        })
    }

    /// Creates the first index with its alias unless the alias exists, in which case it adds
    /// the fields the mapping gained since (a new field is all a deploy may bring without
    /// `scripts/reindex`; existing ones are restated unchanged); once per process.
    async fn ensure_index(&self) -> Result<(), AppError> {
        self.index_ready
            .get_or_try_init(|| async {
                let mut definition: Value = serde_json::from_str(INDEX_DEFINITION).map_err(AppError::internal)?;
                let head = self.call(Method::HEAD, &format!("/{}", self.alias), None, false).await?;
                if head.status.is_success() {
                    let fields = json!({ "properties": definition["mappings"]["properties"] });
                    let path = format!("/{}/_mapping", self.alias);
                    let put = self.call(Method::PUT, &path, Some(Bytes::from(fields.to_string())), false).await?;
                    return match put.status {
                        s if s.is_success() => Ok(()),
                        s => Err(engine_error("adding new fields to the mapping", s, &put.body)),
                    };
                }
                definition["aliases"] = json!({ self.alias.as_str(): {} });
                let index = format!("{}-v1", self.alias);
                let created = self
                    .call(Method::PUT, &format!("/{index}"), Some(Bytes::from(definition.to_string())), false)
                    .await?;
                match created.status {
                    s if s.is_success() => {
                        tracing::info!(%index, alias = %self.alias, "search index created");
                        Ok(())
                    }
                    // Another instance created it first.
                    StatusCode::BAD_REQUEST if error_type(&created.body) == "resource_already_exists_exception" => {
                        Ok(())
                    }
                    s => Err(engine_error("creating the index", s, &created.body)),
                }
            })
            .await
            .map(|_| ())
    }
}

impl Signer {
    async fn sign(&self, request: &mut Request<Full<Bytes>>, url: &str, body: &[u8]) -> Result<(), AppError> {
        let credentials = self.credentials.provide_credentials().await.map_err(|e| {
            tracing::error!(error = %e, "no credentials to sign search requests with");
            AppError::Unavailable { dependency: DEP.into() }
        })?;
        let identity = credentials.into();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(AppError::internal)?
            .into();
        let headers = request.headers().iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)));
        let signable = SignableRequest::new(request.method().as_str(), url, headers, SignableBody::Bytes(body))
            .map_err(AppError::internal)?;
        let (instructions, _) = sign(signable, &params).map_err(AppError::internal)?.into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

/// The engine answers and the alias can be described (it may not exist yet: nothing indexed).
#[async_trait]
impl HealthProbe for OpenSearch {
    fn name(&self) -> &'static str {
        "search"
    }
    async fn probe(&self) -> Result<(), String> {
        let head =
            self.call(Method::HEAD, &format!("/{}", self.alias), None, false).await.map_err(|e| e.to_string())?;
        match head.status {
            StatusCode::OK | StatusCode::NOT_FOUND => Ok(()),
            s => Err(format!("HEAD {}: {s}", self.alias)),
        }
    }
}

/// The `error.type` of an OpenSearch error body ("" when there is none).
fn error_type(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["type"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn engine_error(what: &str, status: StatusCode, body: &[u8]) -> AppError {
    let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
    match status {
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            tracing::warn!(%status, body = %text, "{what}: the search engine is busy");
            AppError::Unavailable { dependency: DEP.into() }
        }
        _ => AppError::internal(format!("{what}: {status} {text}")),
    }
}

/// The `_bulk` body for `changes`: each at its listing's version, `external_gte` so a rewrite
/// of the same version (a calendar change) applies and an older one is refused.
fn bulk_body(changes: &[IndexChange]) -> Result<Bytes, AppError> {
    let mut out = Vec::with_capacity(changes.len() * 512);
    for change in changes {
        let (action, version) = match change {
            IndexChange::Put { version, .. } => ("index", version),
            IndexChange::Remove { version, .. } => ("delete", version),
        };
        let meta =
            json!({ action: { "_id": change.id().to_string(), "version": version, "version_type": "external_gte" } });
        serde_json::to_writer(&mut out, &meta).map_err(AppError::internal)?;
        out.push(b'\n');
        if let IndexChange::Put { doc, .. } = change {
            serde_json::to_writer(&mut out, doc).map_err(AppError::internal)?;
            out.push(b'\n');
        }
    }
    Ok(Bytes::from(out))
}

/// One `_bulk` item's outcome: done, overtaken by a newer version (409), or already gone (a
/// delete's 404) are all success.
fn item_outcome(item: &Value) -> Result<(), AppError> {
    let (action, result) =
        item.as_object().and_then(|o| o.iter().next()).ok_or_else(|| AppError::internal("empty bulk item"))?;
    let status = result["status"].as_u64().unwrap_or(0);
    match status {
        200..=299 | 409 => Ok(()),
        404 if action == "delete" => Ok(()),
        _ => Err(AppError::internal(format!("bulk {action} of {}: {status} {}", result["_id"], result["error"]))),
    }
}

#[async_trait]
impl SearchIndex for OpenSearch {
    async fn apply(&self, changes: &[IndexChange]) -> Result<Vec<Result<(), AppError>>, AppError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        self.ensure_index().await?;
        self.bulk(&self.alias, changes).await
    }
}

impl OpenSearch {
    /// One `_bulk` of `changes` into `target` (the alias, or an index being built).
    async fn bulk(&self, target: &str, changes: &[IndexChange]) -> Result<Vec<Result<(), AppError>>, AppError> {
        let path = format!("/{target}/_bulk");
        let response = self.call(Method::POST, &path, Some(bulk_body(changes)?), true).await?;
        if !response.status.is_success() {
            return Err(engine_error("bulk write", response.status, &response.body));
        }
        let body: Value = serde_json::from_slice(&response.body).map_err(AppError::internal)?;
        let items = body["items"].as_array().filter(|i| i.len() == changes.len()).ok_or_else(|| {
            AppError::internal(format!("bulk answer without one item per change: {}", response.body.len()))
        })?;
        Ok(items.iter().map(item_outcome).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overtaken_and_already_deleted_are_success_other_refusals_fail() {
        assert!(item_outcome(&json!({"index": {"_id": "a", "status": 201}})).is_ok());
        assert!(item_outcome(&json!({"index": {"_id": "a", "status": 409}})).is_ok());
        assert!(item_outcome(&json!({"delete": {"_id": "a", "status": 404}})).is_ok());
        assert!(item_outcome(&json!({"index": {"_id": "a", "status": 404}})).is_err());
        assert!(item_outcome(
            &json!({"index": {"_id": "a", "status": 400, "error": {"type": "mapper_parsing_exception"}}})
        )
        .is_err());
    }

    #[test]
    fn the_index_definition_is_valid_json_with_a_strict_mapping() {
        let definition: Value = serde_json::from_str(INDEX_DEFINITION).unwrap();
        assert_eq!(definition["mappings"]["dynamic"], "strict");
    }
}
