//! How a token issuer gets its signing key: read from Secrets Manager on the first token it signs,
//! never from its environment.
//!
//! An environment variable is readable by anyone allowed `lambda:GetFunctionConfiguration` (the
//! AWS-managed read-only Lambda policy grants it), and a signing key lets its reader mint a token
//! for anyone. So the issuers (`Kind::Issuer` in [`crate::registry`]) run under a role that may read the secret,
//! and their environment names only the secret and the version the verifiers' public keys were
//! derived from (`AuthTokenPublicKeys.SecretVersionId`), so both always come from one version.
//! The read happens on first use, not at start-up: cold starts stay as short as the other
//! functions', and the first token costs one Secrets Manager round trip.

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use shared::auth::{TokenSigner, TokenVerifier};
use shared::http::ApiError;
use tokio::sync::OnceCell;

/// The issuer written into and required of every access token.
pub const TOKEN_ISSUER: &str = "budget-api";

/// The secret's ARN (`AuthTokenSecret`).
pub const SECRET_ARN_VAR: &str = "AUTH_TOKEN_SECRET_ARN";
/// The secret's version to read; unset reads the current one (local stacks).
pub const SECRET_VERSION_VAR: &str = "AUTH_TOKEN_SECRET_VERSION";

/// Where the signing key is and, once read, the key.
#[derive(Debug)]
pub struct Signing {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
    version: Option<String>,
    key: OnceCell<TokenSigner>,
}

impl Signing {
    pub fn new(client: aws_sdk_secretsmanager::Client, arn: &str, version: Option<&str>) -> Self {
        Self {
            client,
            arn: arn.to_owned(),
            version: version.filter(|v| !v.is_empty()).map(str::to_owned),
            key: OnceCell::new(),
        }
    }

    /// The signing key, read on first use; it must be one `verifier` accepts, or every token it
    /// signed would be refused.
    ///
    /// # Errors
    /// 500 (logged with the reason) when the secret cannot be read or holds no usable key.
    pub async fn signer(&self, verifier: &TokenVerifier) -> Result<&TokenSigner, ApiError> {
        self.key
            .get_or_try_init(|| async {
                let signer = self.read().await.inspect_err(|reason| {
                    tracing::error!(reason, arn = %self.arn, "the token signing key is unusable");
                })?;
                if verifier.accepts(signer.public_key()) {
                    Ok(signer)
                } else {
                    let reason = "its public key is not among AUTH_TOKEN_PUBLIC_KEYS".to_owned();
                    tracing::error!(reason, arn = %self.arn, "the token signing key is unusable");
                    Err(reason)
                }
            })
            .await
            .map_err(ApiError::Internal)
    }

    async fn read(&self) -> Result<TokenSigner, String> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.arn)
            .set_version_id(self.version.clone())
            .send()
            .await
            .map_err(|e| format!("reading the signing secret failed: {}", DisplayErrorContext(e)))?;
        let text = output
            .secret_string()
            .ok_or_else(|| "the signing secret has no SecretString".to_owned())?;
        TokenSigner::from_secret(text, TOKEN_ISSUER).map_err(|e| e.to_string())
    }
}
