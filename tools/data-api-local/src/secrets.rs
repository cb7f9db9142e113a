//! Database credentials by secret ARN, as Secrets Manager holds them for the Data API, and the one
//! Secrets Manager operation the project's functions call (`GetSecretValue`).
//!
//! On AWS a Data API call names a secret whose `username` and `password` are the database login;
//! the migrate function connects with the cluster's master secret and the API functions with the
//! application role's. Here a call whose `secretArn` is registered connects as that user; with no
//! secret registered at all, every call connects as the user of the PostgreSQL URL (the master),
//! which is what tools and older setups expect. Once any secret is registered, an unknown ARN is
//! refused as AWS refuses it.
//!
//! `GetSecretValue` is served at `POST /` with `X-Amz-Target: secretsmanager.GetSecretValue`
//! (the awsJson1.1 protocol), so the real `aws-sdk-secretsmanager` client works against
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER` pointed here.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorKind};

/// A database login held in a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    /// Parses `USERNAME:PASSWORD` (the password may contain `:`).
    ///
    /// # Errors
    /// When there is no `:` or the username is empty.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once(':') {
            Some((username, password)) if !username.is_empty() => Ok(Self {
                username: username.to_owned(),
                password: password.to_owned(),
            }),
            _ => Err(format!("expected USERNAME:PASSWORD, got {text:?}")),
        }
    }
}

/// The message the Data API and Secrets Manager give for a secret that does not exist.
pub const SECRET_NOT_FOUND: &str = "Secrets Manager can't find the specified secret.";

/// A `GetSecretValue` request (only the field this project sends).
#[derive(Debug, Deserialize)]
pub struct GetSecretValueRequest {
    #[serde(rename = "SecretId")]
    pub secret_id: Option<String>,
    /// A version other than [`VERSION_ID`] does not exist here, as on AWS.
    #[serde(rename = "VersionId")]
    pub version_id: Option<String>,
}

/// The one version every secret has here.
pub const VERSION_ID: &str = "00000000-0000-0000-0000-000000000001";

/// A `GetSecretValue` answer: for a login, the credentials as the JSON `SecretString` RDS writes.
#[derive(Debug, Serialize)]
pub struct GetSecretValueResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "SecretString")]
    pub secret_string: String,
    #[serde(rename = "VersionId")]
    pub version_id: String,
    #[serde(rename = "VersionStages")]
    pub version_stages: Vec<String>,
}

impl GetSecretValueResponse {
    pub fn new(arn: &str, credentials: &Credentials) -> Self {
        let login = serde_json::json!({
            "username": credentials.username,
            "password": credentials.password,
        });
        Self::text(arn, &login.to_string())
    }

    /// Any `SecretString`.
    pub fn text(arn: &str, secret_string: &str) -> Self {
        Self {
            arn: arn.to_owned(),
            name: arn.rsplit(':').next().unwrap_or(arn).to_owned(),
            secret_string: secret_string.to_owned(),
            version_id: VERSION_ID.to_owned(),
            version_stages: vec!["AWSCURRENT".to_owned()],
        }
    }
}

/// Secrets Manager's error for an unknown secret id.
pub fn not_found() -> ApiError {
    ApiError::new(ErrorKind::ResourceNotFoundException, SECRET_NOT_FOUND)
}
