//! The `auth-keys` function: the CloudFormation custom resource `AuthTokenPublicKeys`, which turns
//! the token signing secret into the public keys every other function verifies with.
//!
//! Only this function and the token issuers ([`crate::TOKEN_ISSUERS`]) can read the secret. On
//! `Create` and `Update` it reads the secret named by the `SecretArn` property and answers the
//! public keys of its `current`, `previous` and `next` keys as `PublicKeys` (comma-separated,
//! current first), which the template passes to the functions as plain environment: one dynamic
//! reference per issuer instead of three per function. Raising `KeyGeneration` (the template's
//! `AuthTokenKeyGeneration`) after changing the secret makes CloudFormation ask again. `Delete`
//! does nothing.

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use serde_json::Value;
use shared::auth::public_keys_of_secret;

use crate::custom_resource::{self, Outcome, Request};

/// Never changes: a new id would make CloudFormation delete the "old" resource.
pub const PHYSICAL_RESOURCE_ID: &str = "budget-auth-token-public-keys";
/// The attribute the template reads with `Fn::GetAtt`.
pub const PUBLIC_KEYS: &str = "PublicKeys";

/// Why the public keys could not be given.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a CloudFormation custom resource request: {0}")]
    UnrecognisedEvent(String),
    #[error("the custom resource must name the signing secret: property SecretArn is missing")]
    NoSecretArn,
    #[error("reading the signing secret failed: {0}")]
    Secret(String),
    #[error("the signing secret has no SecretString")]
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
        let outcome = match custom_resource::properties(&request) {
            None if matches!(request, Request::Delete(_)) => Outcome::success("nothing to delete"),
            None => Outcome::success("nothing to do for this request type"),
            Some(properties) => match self.public_keys(properties).await {
                Ok(keys) => {
                    let mut outcome = Outcome::success(format!("{} public key(s)", keys.split(',').count()));
                    outcome.data.insert(PUBLIC_KEYS.to_owned(), keys);
                    outcome
                }
                Err(error) => {
                    tracing::error!(%error, "publishing the token public keys failed");
                    Outcome::failed(error.to_string())
                }
            },
        };
        Ok(custom_resource::answer(&self.http, &request, PHYSICAL_RESOURCE_ID, outcome).await)
    }

    async fn public_keys(&self, properties: &Value) -> Result<String, Error> {
        let arn = properties
            .get("SecretArn")
            .and_then(Value::as_str)
            .filter(|arn| !arn.is_empty())
            .ok_or(Error::NoSecretArn)?;
        let output = self
            .secrets
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| Error::Secret(DisplayErrorContext(e).to_string()))?;
        let text = output.secret_string().ok_or(Error::NotText)?;
        let keys = public_keys_of_secret(text)?;
        Ok(keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))
    }
}
