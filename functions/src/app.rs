//! What every endpoint function needs, read from the environment once per cold start.

use std::sync::Arc;

use shared::auth::{KeyError, TokenSigner, TokenVerifier};
use shared::db::{Db, MissingEnv};
use shared::http::ApiError;

pub use crate::signing::TOKEN_ISSUER;
use crate::signing::{SECRET_ARN_VAR, SECRET_VERSION_VAR, Signing};

/// The public keys that verify access tokens: comma-separated base64url Ed25519 keys (current,
/// previous, next). Not secret: on AWS the template fills it from the `AuthTokenPublicKeys`
/// custom resource.
pub const PUBLIC_KEYS_VAR: &str = "AUTH_TOKEN_PUBLIC_KEYS";

/// The token variables a function is started with when the signing secret `secret_arn` holds
/// `signing_key` as its current key, as the template gives them on AWS (for local stacks: dev,
/// bench, load). Only the issuers read the secret.
///
/// # Errors
/// [`KeyError::WeakSecret`] for a short key.
pub fn token_environment(
    secret_arn: &str,
    signing_key: &str,
) -> Result<[(&'static str, String); 2], KeyError> {
    let public = shared::auth::public_key_of(signing_key.as_bytes())?;
    Ok([
        (PUBLIC_KEYS_VAR, public.to_string()),
        (SECRET_ARN_VAR, secret_arn.to_owned()),
    ])
}

/// Configuration and clients shared by all invocations of a function.
#[derive(Clone, Debug)]
pub struct App {
    pub db: Db,
    pub tokens: Arc<TokenVerifier>,
    /// Only in the functions that issue tokens.
    pub signing: Option<Arc<Signing>>,
}

/// Why the function cannot start; reported as the Lambda init error.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Missing(#[from] MissingEnv),
    #[error("{0}: {1}")]
    Key(&'static str, KeyError),
}

impl App {
    /// `DB_CLUSTER_ARN`, `DB_SECRET_ARN`, `DB_NAME` (see [`Db::from_env`]) and
    /// [`PUBLIC_KEYS_VAR`]. A function that issues tokens also needs the signing secret: see
    /// [`Self::from_env_issuing`].
    ///
    /// # Errors
    /// [`ConfigError`] naming what is missing or malformed.
    pub async fn from_env() -> Result<Self, ConfigError> {
        Self::with_config(&shared::db::aws_config().await)
    }

    fn with_config(config: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let keys = std::env::var(PUBLIC_KEYS_VAR).map_err(|_| MissingEnv(PUBLIC_KEYS_VAR))?;
        let tokens = TokenVerifier::from_list(&keys, TOKEN_ISSUER)
            .map_err(|e| ConfigError::Key(PUBLIC_KEYS_VAR, e))?;
        Ok(Self {
            db: Db::from_env_with_secret("DB_SECRET_ARN", config)?,
            tokens: Arc::new(tokens),
            signing: None,
        })
    }

    /// As [`Self::from_env`], plus where the signing key is: [`SECRET_ARN_VAR`] and, on AWS,
    /// [`SECRET_VERSION_VAR`] (see [`crate::signing`]).
    ///
    /// # Errors
    /// As [`Self::from_env`], or when the secret's ARN is not set.
    pub async fn from_env_issuing() -> Result<Self, ConfigError> {
        let config = shared::db::aws_config().await;
        let arn = std::env::var(SECRET_ARN_VAR)
            .ok()
            .filter(|arn| !arn.is_empty())
            .ok_or(MissingEnv(SECRET_ARN_VAR))?;
        let version = std::env::var(SECRET_VERSION_VAR).ok();
        let client = aws_sdk_secretsmanager::Client::new(&config);
        let mut app = Self::with_config(&config)?;
        app.signing = Some(Arc::new(Signing::new(client, &arn, version.as_deref())));
        Ok(app)
    }

    /// The key that signs access tokens.
    ///
    /// # Errors
    /// 500 in a function that was not started to issue tokens, or whose key is unusable.
    pub async fn signer(&self) -> Result<&TokenSigner, ApiError> {
        match &self.signing {
            Some(signing) => signing.signer(&self.tokens).await,
            None => Err(ApiError::Internal(
                "this function holds no token signing key".to_owned(),
            )),
        }
    }
}
