//! The `auth-keys` function: the CloudFormation custom resource `AuthTokenPublicKeys`, which turns
//! the token signing secret into the public keys every other function verifies with.
//!
//! Only this function and the token issuers (`Kind::Issuer` in [`crate::registry`]) can read the secret. On
//! `Create` and `Update` it reads the secret named by the `SecretArn` property and answers the
//! public keys of its `current`, `previous` and `next` keys as `PublicKeys` (comma-separated,
//! current first), which the template passes to the functions as plain environment, and the
//! secret's `SecretVersionId`, at which the issuers read their signing key ([`crate::signing`]).
//! Raising `KeyGeneration` (the template's `AuthTokenKeyGeneration`) after changing the secret
//! makes CloudFormation ask again. `Delete` does nothing.
//!
//! Rollbacks never fail here: the physical id names the secret version, so a new version is a new
//! resource and a rollback simply keeps the old one (CloudFormation deletes the new); an update
//! whose `KeyGeneration` went down is a rollback of one that kept its version, and is answered
//! from the version its physical id names, not whatever the secret holds now.

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use serde_json::Value;
use shared::auth::public_keys_of_secret;

use crate::custom_resource::{self, Outcome, Request};

/// The physical id's stem; the secret version follows it.
pub const PHYSICAL_RESOURCE_ID: &str = "budget-auth-token-public-keys";
/// The attributes the template reads with `Fn::GetAtt`.
pub const PUBLIC_KEYS: &str = "PublicKeys";
pub const SECRET_VERSION_ID: &str = "SecretVersionId";

/// Why the public keys could not be given.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a CloudFormation custom resource request: {0}")]
    UnrecognisedEvent(String),
    #[error("the custom resource must name the signing secret: property SecretArn is missing")]
    NoSecretArn,
    #[error("reading the signing secret failed: {0}")]
    Secret(String),
    #[error("the signing secret has no SecretString or VersionId")]
    NotText,
    #[error(transparent)]
    Keys(#[from] shared::auth::KeyError),
}

impl From<Error> for lambda_runtime::Diagnostic {
    fn from(error: Error) -> Self {
        Self {
            error_type: "AuthKeysFailed".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The function's clients, built once per cold start.
pub struct KeyPublisher {
    pub secrets: aws_sdk_secretsmanager::Client,
    pub http: reqwest::Client,
}

impl KeyPublisher {
    pub async fn from_env() -> Self {
        let config = shared::db::aws_config().await;
        Self {
            secrets: aws_sdk_secretsmanager::Client::new(&config),
            http: crate::migrate::https_client(),
        }
    }

    /// Answers one custom resource request, failures included, and returns the response sent.
    ///
    /// # Errors
    /// [`Error::UnrecognisedEvent`] when `event` is not a request (there is nowhere to answer).
    pub async fn handle(&self, event: Value) -> Result<Value, Error> {
        let request = custom_resource::parse(event).map_err(|e| Error::UnrecognisedEvent(e.to_string()))?;
        let (physical_id, outcome) = match &request {
            Request::Create(create) => self.publish(&create.resource_properties, None).await,
            Request::Update(update) => {
                // A rollback lowers `KeyGeneration`: answer from the version the resource had.
                let rollback = custom_resource::is_rollback(
                    &update.resource_properties,
                    &update.old_resource_properties,
                    &["KeyGeneration"],
                );
                let pinned = rollback.then_some(update.physical_resource_id.as_str());
                self.publish(&update.resource_properties, pinned).await
            }
            Request::Delete(delete) => (
                delete.physical_resource_id.clone(),
                Outcome::success("nothing to delete"),
            ),
            _ => (
                PHYSICAL_RESOURCE_ID.to_owned(),
                Outcome::success("nothing to do for this request type"),
            ),
        };
        Ok(custom_resource::answer(&self.http, &request, &physical_id, outcome).await)
    }

    /// The public keys of the secret the properties name (at the version `pinned` names, if any),
    /// and the physical id of that version.
    async fn publish(&self, properties: &Value, pinned: Option<&str>) -> (String, Outcome) {
        let version = pinned.and_then(|id| id.strip_prefix(PHYSICAL_RESOURCE_ID)?.strip_prefix('/'));
        match self.public_keys(properties, version).await {
            Ok((keys, version)) => {
                let mut outcome = Outcome::success(format!("{} public key(s)", keys.split(',').count()));
                outcome.data.insert(PUBLIC_KEYS.to_owned(), keys);
                outcome.data.insert(SECRET_VERSION_ID.to_owned(), version.clone());
                (format!("{PHYSICAL_RESOURCE_ID}/{version}"), outcome)
            }
            Err(error) => {
                tracing::error!(%error, "publishing the token public keys failed");
                let id = pinned.map_or_else(|| PHYSICAL_RESOURCE_ID.to_owned(), str::to_owned);
                (id, Outcome::failed(error.to_string()))
            }
        }
    }

    async fn public_keys(
        &self,
        properties: &Value,
        version: Option<&str>,
    ) -> Result<(String, String), Error> {
        let arn = properties
            .get("SecretArn")
            .and_then(Value::as_str)
            .filter(|arn| !arn.is_empty())
            .ok_or(Error::NoSecretArn)?;
        let output = self
            .secrets
            .get_secret_value()
            .secret_id(arn)
            .set_version_id(version.map(str::to_owned))
            .send()
            .await
            .map_err(|e| Error::Secret(DisplayErrorContext(e).to_string()))?;
        let text = output.secret_string().ok_or(Error::NotText)?;
        let version = output.version_id().ok_or(Error::NotText)?.to_owned();
        let keys = public_keys_of_secret(text)?;
        Ok((
            keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            version,
        ))
    }
}
