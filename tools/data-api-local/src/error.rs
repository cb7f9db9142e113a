//! The Data API's error responses: an exception name, its HTTP status, and a message.
//!
//! The SDK reads the exception name from the `x-amzn-ErrorType` header (and `__type` in the body)
//! and the message from `message`, so both are sent. PostgreSQL errors become
//! `DatabaseErrorException` with the text Aurora's Data API produces (pgjdbc's rendering):
//! `ERROR: <message>[\n  Hint: …][\n  Position: N]; SQLState: XXXXX`. Clients detect a unique
//! violation by the `SQLState: 23505` suffix.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Every exception this emulator can answer with, named as in the Data API's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ErrorKind {
    AccessDeniedException,
    BadRequestException,
    DatabaseErrorException,
    DatabaseNotFoundException,
    DatabaseResumingException,
    DatabaseUnavailableException,
    ForbiddenException,
    InternalServerErrorException,
    NotFoundException,
    /// Secrets Manager's, for `GetSecretValue` of an unknown secret.
    ResourceNotFoundException,
    SerializationException,
    ServiceUnavailableError,
    StatementTimeoutException,
    ThrottlingException,
    TransactionNotFoundException,
    UnsupportedResultException,
    ValidationException,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::AccessDeniedException => "AccessDeniedException",
            Self::BadRequestException => "BadRequestException",
            Self::DatabaseErrorException => "DatabaseErrorException",
            Self::DatabaseNotFoundException => "DatabaseNotFoundException",
            Self::DatabaseResumingException => "DatabaseResumingException",
            Self::DatabaseUnavailableException => "DatabaseUnavailableException",
            Self::ForbiddenException => "ForbiddenException",
            Self::InternalServerErrorException => "InternalServerErrorException",
            Self::NotFoundException => "NotFoundException",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::SerializationException => "SerializationException",
            Self::ServiceUnavailableError => "ServiceUnavailableError",
            Self::StatementTimeoutException => "StatementTimeoutException",
            Self::ThrottlingException => "ThrottlingException",
            Self::TransactionNotFoundException => "TransactionNotFoundException",
            Self::UnsupportedResultException => "UnsupportedResultException",
            Self::ValidationException => "ValidationException",
        }
    }

    /// The HTTP status the Data API's model assigns to the exception.
    pub fn status(self) -> StatusCode {
        match self {
            Self::AccessDeniedException | Self::ForbiddenException => StatusCode::FORBIDDEN,
            Self::NotFoundException
            | Self::DatabaseNotFoundException
            | Self::TransactionNotFoundException => StatusCode::NOT_FOUND,
            Self::InternalServerErrorException => StatusCode::INTERNAL_SERVER_ERROR,
            Self::ServiceUnavailableError => StatusCode::SERVICE_UNAVAILABLE,
            Self::DatabaseUnavailableException => StatusCode::GATEWAY_TIMEOUT,
            Self::BadRequestException
            | Self::DatabaseErrorException
            | Self::DatabaseResumingException
            | Self::ResourceNotFoundException
            | Self::SerializationException
            | Self::StatementTimeoutException
            | Self::ThrottlingException
            | Self::UnsupportedResultException
            | Self::ValidationException => StatusCode::BAD_REQUEST,
        }
    }

    /// The message AWS sends with the exception when it is not about a particular statement;
    /// used by fault injection.
    pub fn default_message(self) -> &'static str {
        match self {
            Self::DatabaseResumingException => {
                "The database is resuming after being auto-paused. Please wait a few seconds and try again."
            }
            Self::DatabaseUnavailableException => "The database is unavailable.",
            Self::ServiceUnavailableError => "The service is unavailable.",
            Self::ThrottlingException => "Rate exceeded",
            Self::InternalServerErrorException => "An internal error occurred.",
            Self::StatementTimeoutException => "Request timed out",
            _ => "Injected fault",
        }
    }
}

/// An error answer: its kind and its message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequestException, message)
    }

    pub fn transaction_not_found(id: &str) -> Self {
        Self::new(
            ErrorKind::TransactionNotFoundException,
            format!("Transaction {id} is not found"),
        )
    }

    pub fn unsupported_result(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnsupportedResultException, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InternalServerErrorException, message)
    }

    /// The SQLState when this is a database error, as clients parse it from the message.
    pub fn sql_state(&self) -> Option<&str> {
        (self.kind == ErrorKind::DatabaseErrorException)
            .then(|| self.message.rsplit_once("SQLState: ").map(|(_, code)| code))
            .flatten()
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(error: tokio_postgres::Error) -> Self {
        let Some(db) = error.as_db_error() else {
            // A broken connection, not a statement the server refused.
            return Self::new(
                ErrorKind::DatabaseUnavailableException,
                format!("Communications link failure: {error}"),
            );
        };
        let mut message = format!("{}: {}", db.severity(), db.message());
        if let Some(hint) = db.hint() {
            message.push_str("\n  Hint: ");
            message.push_str(hint);
        }
        if let Some(tokio_postgres::error::ErrorPosition::Original(position)) = db.position() {
            message.push_str(&format!("\n  Position: {position}"));
        }
        message.push_str("; SQLState: ");
        message.push_str(db.code().code());
        Self::new(ErrorKind::DatabaseErrorException, message)
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        match error {
            deadpool_postgres::PoolError::Backend(error) => {
                let database_missing = error
                    .as_db_error()
                    .is_some_and(|db| db.code() == &tokio_postgres::error::SqlState::INVALID_CATALOG_NAME);
                if database_missing {
                    let message = error
                        .as_db_error()
                        .map(|db| db.message().to_owned())
                        .unwrap_or_default();
                    Self::new(ErrorKind::DatabaseNotFoundException, message)
                } else {
                    error.into()
                }
            }
            other => Self::new(
                ErrorKind::DatabaseUnavailableException,
                format!("Could not reach the database: {other}"),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "__type": self.kind.name(), "message": self.message });
        let mut response = (self.kind.status(), axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind.name()));
        response
    }
}
