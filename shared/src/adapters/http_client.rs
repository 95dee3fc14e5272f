//! The plain-HTTPS client of the adapters that are not AWS SDK clients (Stripe, JWKS).
//!
//! It is hyper with rustls on aws-lc, the stack the AWS SDK's own client is built from, so the
//! build holds one HTTP stack, not two (decision 0024). It trusts the platform's root certificates, like any HTTPS client reaching
//! third parties, and speaks plain HTTP too (localstripe and the local runner's JWKS).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A request's answer, its body read in full.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub body: Bytes,
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Connect(#[from] hyper_util::client::legacy::Error),
    #[error("reading the body: {0}")]
    Body(#[from] hyper::Error),
    #[error("TLS set-up: {0}")]
    Tls(String),
}

/// A client built on first use, not at init. Building one loads the platform's root
/// certificates (milliseconds of a cold start), and most invocations of the functions that hold
/// one never call out: an anonymous `GET /listings/{id}` never needs the JWKS, a booking's
/// cancellation calls Stripe only when there is a payment to refund.
pub struct LazyClient {
    timeout: Duration,
    client: OnceLock<Result<HttpsClient, String>>,
}

impl LazyClient {
    /// `timeout` bounds a whole request: connecting, sending, and reading the body.
    pub fn new(timeout: Duration) -> Self {
        Self { timeout, client: OnceLock::new() }
    }

    fn client(&self) -> Result<&HttpsClient, HttpError> {
        self.client.get_or_init(build).as_ref().map_err(|e| HttpError::Tls(e.clone()))
    }

    /// Sends `request` and reads the whole answer. Any status is an answer; only no answer
    /// (connection refused, TLS failure, timeout) is an error.
    pub async fn send(&self, request: Request<Full<Bytes>>) -> Result<Response, HttpError> {
        let exchange = async {
            let response = self.client()?.request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok(Response { status, body })
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| HttpError::Timeout(self.timeout))?
    }
}

fn build() -> Result<HttpsClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    if !native.errors.is_empty() {
        tracing::warn!(errors = ?native.errors, "some platform root certificates were not read");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    if ignored > 0 {
        tracing::warn!(added, ignored, "some platform root certificates did not parse");
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_built_on_first_use_and_then_kept() {
        let lazy = LazyClient::new(Duration::from_secs(1));
        assert!(lazy.client.get().is_none(), "nothing built before the first call");
        let first: *const HttpsClient = lazy.client().unwrap();
        assert!(std::ptr::eq(first, lazy.client().unwrap()), "the same client every call after");
    }

    /// Reads one request from a loopback socket and answers it, so the client is exercised
    /// over a real connection.
    async fn serve_once(answer: &'static [u8], delay: Duration) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            tokio::time::sleep(delay).await;
            let _ = socket.write_all(answer).await;
            seen
        });
        (url, task)
    }

    #[tokio::test]
    async fn any_status_is_an_answer_with_its_whole_body() {
        let (url, server) =
            serve_once(b"HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\nnope!", Duration::ZERO).await;
        let client = LazyClient::new(Duration::from_secs(5));
        let request =
            Request::get(format!("{url}/v1/x")).header("authorization", "Bearer k").body(Full::default()).unwrap();
        let response = client.send(request).await.unwrap();
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        assert_eq!(&response.body[..], b"nope!");
        let seen = String::from_utf8(server.await.unwrap()).unwrap().to_ascii_lowercase();
        assert!(seen.starts_with("get /v1/x http/1.1\r\n"), "{seen}");
        assert!(seen.contains("authorization: bearer k\r\n"), "{seen}");
    }

    #[tokio::test]
    async fn a_slow_answer_is_a_timeout() {
        let (url, _server) = serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", Duration::from_secs(5)).await;
        let client = LazyClient::new(Duration::from_millis(200));
        let err = client.send(Request::get(url).body(Full::default()).unwrap()).await.unwrap_err();
        assert!(matches!(err, HttpError::Timeout(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error() {
        let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let client = LazyClient::new(Duration::from_secs(5));
        let err = client
            .send(Request::get(format!("http://127.0.0.1:{port}/")).body(Full::default()).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, HttpError::Connect(_)), "{err:?}");
    }
}
