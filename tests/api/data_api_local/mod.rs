//! data-api-local, tested through `aws-sdk-rdsdata` as every caller uses it.

mod errors;
mod limits;
mod parameters;
mod results;
mod timeouts;
mod transactions;

use aws_sdk_rdsdata::error::ProvideErrorMetadata;
use aws_sdk_rdsdata::types::{Field, SqlParameter, TypeHint};

/// A named parameter.
pub fn param(name: &str, value: Field) -> SqlParameter {
    SqlParameter::builder().name(name).value(value).build()
}

/// A named string parameter with a type hint.
pub fn hinted(name: &str, value: &str, hint: TypeHint) -> SqlParameter {
    SqlParameter::builder()
        .name(name)
        .value(Field::StringValue(value.to_owned()))
        .type_hint(hint)
        .build()
}

pub fn text(value: &str) -> Field {
    Field::StringValue(value.to_owned())
}

/// The error code and message of a failed SDK call.
pub fn code_and_message<E: ProvideErrorMetadata>(error: &E) -> (String, String) {
    (
        error.code().unwrap_or_default().to_owned(),
        error.message().unwrap_or_default().to_owned(),
    )
}
