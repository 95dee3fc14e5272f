//! Configuration read once per cold start: environment variables and the AWS SDK config.

use aws_config::{BehaviorVersion, SdkConfig};

use crate::error::AppError;

/// Reads a required environment variable, failing init with a message naming it.
pub fn env_required(name: &str) -> Result<String, ConfigError> {
    std::env::var(name).map_err(|_| ConfigError::Missing(name.to_owned()))
}

/// Reads an optional environment variable and parses it, falling back to `default`.
pub fn env_parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => raw.trim().parse().map_err(|_| ConfigError::Invalid(name.to_owned(), raw)),
        _ => Ok(default),
    }
}

/// The platform's rates: `SERVICE_FEE_BPS` and `OWNER_COMMISSION_BPS` (each 0-10,000).
pub fn pricing() -> Result<crate::domain::booking::Pricing, ConfigError> {
    let defaults = crate::domain::booking::Pricing::default();
    let bps = |name: &str, default: i64| {
        let value = env_parsed(name, default)?;
        if (0..=10_000).contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::Invalid(name.to_owned(), value.to_string()))
        }
    };
    Ok(crate::domain::booking::Pricing {
        service_fee_bps: bps("SERVICE_FEE_BPS", defaults.service_fee_bps)?,
        owner_commission_bps: bps("OWNER_COMMISSION_BPS", defaults.owner_commission_bps)?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(String),
    #[error("environment variable {0} has an invalid value {1:?}")]
    Invalid(String, String),
}

impl From<ConfigError> for AppError {
    fn from(e: ConfigError) -> Self {
        AppError::internal(e)
    }
}

/// The AWS SDK configuration for this process, built once per cold start.
///
/// Credentials and region come from the standard environment (Lambda sets them).
/// `AWS_ENDPOINT_URL` (honoured by the SDK itself) points every client at a local
/// emulator such as moto; see [`s3_client`] for the S3 path-style switch that goes with it.
///
/// The HTTPS client trusts the roots AWS endpoints chain to ([`AMAZON_TRUST_SERVICES`]), not
/// the platform's whole store, which is slow to load at every cold start and not needed to
/// reach AWS (decision 0022).
/// `AWS_TLS_TRUST=system` restores the platform's store (a TLS-inspecting proxy, say).
pub async fn aws_sdk_config() -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest());
    if std::env::var("AWS_TLS_TRUST").is_ok_and(|v| v == "system") {
        return loader.load().await;
    }
    loader.http_client(aws_https_client()).load().await
}

/// Amazon Trust Services' root certificates (Amazon Root CA 1-4) and Starfield Services Root
/// G2, which cross-signs them: every AWS service endpoint's certificate chains to these.
pub const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The SDK's default HTTPS client (rustls, aws-lc), trusting [`AMAZON_TRUST_SERVICES`] only.
fn aws_https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES);
    let builder = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    match TlsContext::builder().with_trust_store(trust).build() {
        Ok(tls) => builder.tls_context(tls).build_https(),
        // Cannot happen in this version (building only stores the settings); if it ever
        // does, the platform's store still gets the function to AWS.
        Err(e) => {
            tracing::warn!(error = %e, "TLS context for AWS not built; trusting the platform's roots");
            builder.build_https()
        }
    }
}

/// True when an endpoint override is configured, i.e. we talk to an emulator, not AWS.
pub fn endpoint_overridden() -> bool {
    std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty())
        || std::env::var("AWS_ENDPOINT_URL_S3").is_ok_and(|v| !v.is_empty())
}

/// An S3 client for `config`. Emulators serve buckets by path (`host/bucket/key`);
/// virtual-host style would need wildcard DNS, so path style is forced when an endpoint
/// override is set. Everything else uses `Client::new(&config)` directly.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3_config = aws_sdk_s3::config::Builder::from(config).force_path_style(endpoint_overridden()).build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK's TLS layer parses the bundle with these same calls and panics on a bad one,
    /// so a broken bundle must fail here, not at a function's first AWS call.
    #[test]
    fn the_aws_trust_bundle_holds_exactly_the_five_amazon_roots() {
        use rustls_pki_types::pem::PemObject;
        let certs = rustls_pki_types::CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let fingerprints: Vec<String> = certs
            .iter()
            .map(|c| {
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, c)
                    .as_ref()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            })
            .collect();
        // Amazon Root CA 1, 2, 3, 4, Starfield Services Root G2 (as published by Amazon Trust Services).
        assert_eq!(
            fingerprints,
            [
                "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
                "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
                "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
                "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
                "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
            ]
        );
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs {
            roots.add(cert).unwrap();
        }
        assert_eq!(roots.len(), 5);
    }
}
