//! What every endpoint function needs, read from the environment once per cold start.

use shared::auth::{TokenKeys, WeakSecret};
use shared::db::{Db, MissingEnv};

/// The issuer written into and required of every access token.
pub const TOKEN_ISSUER: &str = "budget-api";

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
    #[error("AUTH_TOKEN_SECRET: {0}")]
    WeakSecret(#[from] WeakSecret),
}

impl App {
    /// `DB_CLUSTER_ARN`, `DB_SECRET_ARN`, `DB_NAME` (see [`Db::from_env`]) and `AUTH_TOKEN_SECRET`
    /// (at least 32 bytes; on AWS the template fills it from Secrets Manager).
    ///
    /// # Errors
    /// [`ConfigError`] naming what is missing or too weak.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let secret = std::env::var("AUTH_TOKEN_SECRET").map_err(|_| MissingEnv("AUTH_TOKEN_SECRET"))?;
        let tokens = TokenKeys::new(secret.as_bytes(), TOKEN_ISSUER)?;
        Ok(Self {
            db: Db::from_env().await?,
            tokens,
        })
    }
}
