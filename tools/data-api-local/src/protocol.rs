//! The Data API's restJson1 request and response bodies, as `aws-sdk-rdsdata` sends and parses them.
//!
//! Member names follow the AWS API reference (`camelCase`). Unions (`Field`, `ArrayValue`) are
//! externally tagged objects with exactly one member, which is what serde's default enum
//! representation produces, so the SDK's "exactly one member" rule holds by construction.

use serde::{Deserialize, Serialize};

/// One value, in a parameter or a result cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    IsNull(bool),
    BooleanValue(bool),
    LongValue(i64),
    DoubleValue(f64),
    StringValue(String),
    /// Base64 on the wire, as the SDK encodes blobs.
    BlobValue(String),
    ArrayValue(ArrayValue),
}

/// An array result; nested arrays use `arrayValues`. Lists are sparse in the Data API's model:
/// a NULL element is a JSON `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ArrayValue {
    BooleanValues(Vec<Option<bool>>),
    LongValues(Vec<Option<i64>>),
    DoubleValues(Vec<Option<f64>>),
    StringValues(Vec<Option<String>>),
    ArrayValues(Vec<ArrayValue>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqlParameter {
    pub name: Option<String>,
    pub value: Option<Field>,
    pub type_hint: Option<TypeHint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TypeHint {
    Date,
    Decimal,
    Json,
    Time,
    Timestamp,
    Uuid,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DecimalReturnType {
    #[default]
    String,
    DoubleOrLong,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LongReturnType {
    String,
    #[default]
    Long,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultSetOptions {
    #[serde(default)]
    pub decimal_return_type: DecimalReturnType,
    #[serde(default)]
    pub long_return_type: LongReturnType,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordsFormat {
    #[default]
    None,
    Json,
}

/// The members every statement-running call shares.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub resource_arn: Option<String>,
    pub secret_arn: Option<String>,
    pub database: Option<String>,
    /// Accepted and ignored: the Data API does not support it for PostgreSQL either.
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteStatementRequest {
    #[serde(flatten)]
    pub target: Target,
    pub sql: Option<String>,
    #[serde(default)]
    pub parameters: Vec<SqlParameter>,
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub include_result_metadata: bool,
    #[serde(default)]
    pub continue_after_timeout: bool,
    #[serde(default)]
    pub result_set_options: ResultSetOptions,
    #[serde(default)]
    pub format_records_as: RecordsFormat,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchExecuteStatementRequest {
    #[serde(flatten)]
    pub target: Target,
    pub sql: Option<String>,
    #[serde(default)]
    pub parameter_sets: Vec<Vec<SqlParameter>>,
    pub transaction_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BeginTransactionRequest {
    #[serde(flatten)]
    pub target: Target,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndTransactionRequest {
    pub resource_arn: Option<String>,
    pub secret_arn: Option<String>,
    pub transaction_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnMetadata {
    pub name: String,
    pub label: String,
    pub type_name: String,
    #[serde(rename = "type")]
    pub jdbc_type: i32,
    pub nullable: i32,
    pub precision: i32,
    pub scale: i32,
    pub schema_name: String,
    pub table_name: String,
    pub is_signed: bool,
    pub is_currency: bool,
    pub is_case_sensitive: bool,
    pub is_auto_increment: bool,
    pub array_base_column_type: i32,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteStatementResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<Vec<Field>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_metadata: Option<Vec<ColumnMetadata>>,
    pub number_of_records_updated: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_fields: Option<Vec<Field>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_records: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResult {
    pub generated_fields: Vec<Field>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchExecuteStatementResponse {
    pub update_results: Vec<UpdateResult>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BeginTransactionResponse {
    pub transaction_id: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndTransactionResponse {
    pub transaction_status: &'static str,
}
