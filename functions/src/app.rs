//! What every endpoint function needs, read from the environment once per cold start.

use std::sync::Arc;

use shared::auth::{KeyError, TokenSigner, TokenVerifier};
use shared::db::{Db, MissingEnv};
use shared::http::ApiError;

/// The issuer written into and required of every access token.
pub const TOKEN_ISSUER: &str = "budget-api";

/// The public keys that verify access tokens: comma-separated base64url Ed25519 keys (current,
/// previous, next). Not secret: on AWS the template fills it from the `AuthTokenPublicKeys`
/// custom resource.
pub const PUBLIC_KEYS_VAR: &str = "AUTH_TOKEN_PUBLIC_KEYS";
/// The secret that signs access tokens (at least 32 bytes), held only by the functions that issue
/// them ([`crate::TOKEN_ISSUERS`]); on AWS a dynamic reference to Secrets Manager.
pub const SIGNING_SECRET_VAR: &str = "AUTH_TOKEN_SIGNING_SECRET";

/// The token variables a function is started with for the signing `secret`: the secret itself and
/// its public key, as the template gives them on AWS (for local stacks: dev, bench, load).
///
/// # Errors
/// [`KeyError::WeakSecret`] for a short secret.
pub fn token_environment(secret: &str) -> Result<[(&'static str, String); 2], KeyError> {
    let public = shared::auth::public_key_of(secret.as_bytes())?;
    Ok([
        (SIGNING_SECRET_VAR, secret.to_owned()),
        (PUBLIC_KEYS_VAR, public.to_string()),
    ])
}

/// Configuration and clients shared by all invocations of a function.
#[derive(Clone, Debug)]
pub struct App {
    pub db: Db,
    pub tokens: Arc<TokenVerifier>,
    /// Only in the functions that issue tokens.
    pub signer: Option<Arc<TokenSigner>>,
}

/// Why the function cannot start; reported as the Lambda init error.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Missing(#[from] MissingEnv),
    #[error("{0}: {1}")]
    Key(&'static str, KeyError),
    #[error(
        "the public key of {SIGNING_SECRET_VAR} is not among {PUBLIC_KEYS_VAR}: the tokens this function signs would be refused everywhere"
    )]
    SignerNotVerifiable,
}

impl App {
    /// `DB_CLUSTER_ARN`, `DB_SECRET_ARN`, `DB_NAME` (see [`Db::from_env`]) and
    /// [`PUBLIC_KEYS_VAR`]. A function that issues tokens also needs [`SIGNING_SECRET_VAR`]: see
    /// [`Self::from_env_issuing`].
    ///
    /// # Errors
    /// [`ConfigError`] naming what is missing or malformed.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let keys = std::env::var(PUBLIC_KEYS_VAR).map_err(|_| MissingEnv(PUBLIC_KEYS_VAR))?;
        let tokens = TokenVerifier::from_list(&keys, TOKEN_ISSUER)
            .map_err(|e| ConfigError::Key(PUBLIC_KEYS_VAR, e))?;
        Ok(Self {
            db: Db::from_env().await?,
            tokens: Arc::new(tokens),
            signer: None,
        })
    }

    /// As [`Self::from_env`], plus the signing key of [`SIGNING_SECRET_VAR`].
    ///
    /// # Errors
    /// As [`Self::from_env`], or when the secret is missing, too short, or its public key is not
    /// one the verifiers accept.
    pub async fn from_env_issuing() -> Result<Self, ConfigError> {
        let secret = std::env::var(SIGNING_SECRET_VAR).map_err(|_| MissingEnv(SIGNING_SECRET_VAR))?;
        let signer = TokenSigner::new(secret.as_bytes(), TOKEN_ISSUER)
            .map_err(|e| ConfigError::Key(SIGNING_SECRET_VAR, e))?;
        Self::from_env().await?.issuing(signer)
    }

    /// This configuration with a key to sign tokens with, which its verifier must accept.
    ///
    /// # Errors
    /// [`ConfigError::SignerNotVerifiable`].
    pub fn issuing(mut self, signer: TokenSigner) -> Result<Self, ConfigError> {
        if !self.tokens.accepts(signer.public_key()) {
            return Err(ConfigError::SignerNotVerifiable);
        }
        self.signer = Some(Arc::new(signer));
        Ok(self)
    }

    /// The key that signs access tokens.
    ///
    /// # Errors
    /// 500 in a function that was not started to issue tokens.
    pub fn signer(&self) -> Result<&TokenSigner, ApiError> {
        self.signer
            .as_deref()
            .ok_or_else(|| ApiError::Internal("this function holds no token signing key".to_owned()))
    }
}
