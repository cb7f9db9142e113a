//! What every endpoint function needs, read from the environment once per cold start.

use shared::auth::{TokenKeys, WeakSecret};
use shared::db::{Db, MissingEnv};

/// The issuer written into and required of every access token.
pub const TOKEN_ISSUER: &str = "budget-api";

/// The value of a rotation key slot that holds no key (the template's initial secret).
pub const NO_KEY: &str = "none";

/// Configuration and clients shared by all invocations of a function.
#[derive(Clone, Debug)]
pub struct App {
    pub db: Db,
    pub tokens: TokenKeys,
}

/// Why the function cannot start; reported as the Lambda init error.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Missing(#[from] MissingEnv),
    #[error("{0}: {1}")]
    WeakSecret(&'static str, WeakSecret),
}

impl App {
    /// `DB_CLUSTER_ARN`, `DB_SECRET_ARN`, `DB_NAME` (see [`Db::from_env`]), `AUTH_TOKEN_SECRET`
    /// (the signing key, at least 32 bytes; on AWS the template fills it from Secrets Manager) and,
    /// during a key rotation, `AUTH_TOKEN_SECRET_PREVIOUS` and `AUTH_TOKEN_SECRET_NEXT` (keys that
    /// verify but never sign; unset, empty or `none` means no such key).
    ///
    /// # Errors
    /// [`ConfigError`] naming what is missing or too weak.
    pub async fn from_env() -> Result<Self, ConfigError> {
        const SIGNING: &str = "AUTH_TOKEN_SECRET";
        let secret = std::env::var(SIGNING).map_err(|_| MissingEnv(SIGNING))?;
        let mut tokens = TokenKeys::new(secret.as_bytes(), TOKEN_ISSUER)
            .map_err(|e| ConfigError::WeakSecret(SIGNING, e))?;
        for name in ["AUTH_TOKEN_SECRET_PREVIOUS", "AUTH_TOKEN_SECRET_NEXT"] {
            let Ok(value) = std::env::var(name) else { continue };
            if value.is_empty() || value == NO_KEY {
                continue;
            }
            tokens = tokens
                .accepting(value.as_bytes())
                .map_err(|e| ConfigError::WeakSecret(name, e))?;
        }
        Ok(Self {
            db: Db::from_env().await?,
            tokens,
        })
    }
}
