//! Runs one Data API statement on one PostgreSQL connection: check it is a single statement,
//! rewrite `:name` placeholders, bind typed parameters, run it within the statement timeout, and
//! shape the result (records or JSON, metadata) under the response size limit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::Client;

use crate::bind::{BoundParameters, bind};
use crate::decode::{RawValue, Value, decode, to_field, to_json};
use crate::error::{ApiError, ErrorKind};
use crate::metadata::describe;
use crate::protocol::{ExecuteStatementRequest, ExecuteStatementResponse, RecordsFormat, SqlParameter};

/// Limits that apply to every statement.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub statement_timeout: Duration,
    pub max_response_bytes: usize,
    pub max_row_bytes: usize,
}

pub const RESPONSE_TOO_LARGE: &str = "Database returned more than the allowed response size limit";
/// AWS documents the limit but not its message; this one names it.
pub const ROW_TOO_LARGE: &str = "Database returned a row larger than the allowed row size limit of 64 KB";

/// A statement checked and rewritten, ready to bind.
pub struct Prepared {
    pub sql: String,
    pub names: Vec<String>,
}

/// Checks that `sql` holds exactly one statement and rewrites its placeholders.
///
/// # Errors
/// `ValidationException` for several statements, `BadRequestException` for none.
pub fn prepare_text(sql: Option<&str>) -> Result<Prepared, ApiError> {
    let sql = sql.ok_or_else(|| ApiError::new(ErrorKind::ValidationException, "sql is required"))?;
    match sql_scan::split_statements(sql).len() {
        0 => Err(ApiError::bad_request("The SQL statement is empty")),
        1 => {
            let rewritten = sql_scan::rewrite_placeholders(sql);
            Ok(Prepared {
                sql: rewritten.sql,
                names: rewritten.names,
            })
        }
        _ => Err(ApiError::new(
            ErrorKind::ValidationException,
            "Multistatements aren't supported.",
        )),
    }
}

/// Runs an `ExecuteStatement` request on `client`.
///
/// # Errors
/// Every error the Data API answers a statement with; see the crate docs.
pub async fn execute(
    client: &Client,
    request: &ExecuteStatementRequest,
    limits: Limits,
    cancelled: &AtomicBool,
) -> Result<JsonBody, ApiError> {
    let prepared = prepare_text(request.sql.as_deref())?;
    let parameters = bind(&prepared.names, &request.parameters)?;
    let run = run(client, &prepared.sql, parameters, request, limits.max_row_bytes);
    let response = with_timeout(
        client,
        limits.statement_timeout,
        request.continue_after_timeout,
        run,
        cancelled,
    )
    .await?;
    // Serialized once: the size limit applies to these bytes, and they are what is sent.
    let body = serde_json::to_vec(&response).map_err(|e| ApiError::internal(e.to_string()))?;
    if body.len() > limits.max_response_bytes {
        return Err(ApiError::bad_request(RESPONSE_TOO_LARGE));
    }
    Ok(JsonBody(body))
}

/// A response body already serialized as JSON.
#[derive(Debug)]
pub struct JsonBody(pub Vec<u8>);

impl axum::response::IntoResponse for JsonBody {
    fn into_response(self) -> axum::response::Response {
        ([(axum::http::header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

async fn run(
    client: &Client,
    sql: &str,
    parameters: BoundParameters,
    request: &ExecuteStatementRequest,
    max_row_bytes: usize,
) -> Result<ExecuteStatementResponse, ApiError> {
    let statement = client.prepare_typed(sql, &parameters.types).await?;
    let stream = client.query_raw(&statement, parameters.values.iter()).await?;
    pin_mut!(stream);
    let columns = statement.columns();
    let mut rows: Vec<Vec<Value>> = Vec::new();
    while let Some(row) = stream.try_next().await? {
        let mut cells = Vec::with_capacity(columns.len());
        // The row as the database sent it: the sum of its values' bytes.
        let mut row_bytes = 0;
        for (index, column) in columns.iter().enumerate() {
            let raw: RawValue<'_> = row.try_get(index)?;
            row_bytes += raw.0.map_or(0, <[u8]>::len);
            cells.push(decode(column.type_(), raw.0)?);
        }
        if row_bytes > max_row_bytes {
            return Err(ApiError::bad_request(ROW_TOO_LARGE));
        }
        rows.push(cells);
    }
    let affected = stream.rows_affected().unwrap_or(0);

    let mut response = ExecuteStatementResponse::default();
    if columns.is_empty() {
        // Aurora PostgreSQL reports generated values only through RETURNING, so this stays empty.
        response.number_of_records_updated = i64::try_from(affected).unwrap_or(i64::MAX);
        response.generated_fields = Some(Vec::new());
    } else if request.format_records_as == RecordsFormat::Json {
        let objects: Vec<serde_json::Value> = rows
            .into_iter()
            .map(|cells| {
                let object = columns
                    .iter()
                    .zip(cells)
                    .map(|(column, value)| (column.name().to_owned(), to_json(value)))
                    .collect::<serde_json::Map<_, _>>();
                serde_json::Value::Object(object)
            })
            .collect();
        response.formatted_records = Some(serde_json::Value::Array(objects).to_string());
    } else {
        let options = &request.result_set_options;
        response.records = Some(
            rows.into_iter()
                .map(|cells| cells.into_iter().map(|v| to_field(v, options)).collect())
                .collect::<Result<_, _>>()?,
        );
    }
    if request.include_result_metadata && !columns.is_empty() {
        response.column_metadata = Some(describe(client, columns).await?);
    }
    Ok(response)
}

/// Runs one parameter set of a `BatchExecuteStatement`; returns nothing, as the Data API's
/// `generatedFields` is not supported for PostgreSQL.
///
/// # Errors
/// As [`execute`].
pub async fn execute_batch_item(
    client: &Client,
    prepared: &Prepared,
    parameters: &[SqlParameter],
    limits: Limits,
    cancelled: &AtomicBool,
) -> Result<(), ApiError> {
    let bound = bind(&prepared.names, parameters)?;
    let run = async {
        let statement = client.prepare_typed(&prepared.sql, &bound.types).await?;
        client.execute_raw(&statement, bound.values.iter()).await?;
        Ok(())
    };
    with_timeout(client, limits.statement_timeout, false, run, cancelled).await
}

/// The Data API's statement timeout: the call answers `StatementTimeoutException`; unless
/// `continueAfterTimeout` is set, the statement is cancelled as well.
///
/// A cancel can arrive after the statement already committed. The call then waits for the
/// statement's own outcome and answers it: a timeout answer always means nothing was written,
/// which is what makes a timed-out write safe to send again (docs/retries.md).
///
/// PostgreSQL acts on a cancel request some time after it is sent, so a cancel that came too late
/// for this statement could stop the connection's next one. `cancelled` is set when one was sent:
/// the caller must then not use the connection again.
async fn with_timeout<T>(
    client: &Client,
    timeout: Duration,
    continue_after_timeout: bool,
    work: impl Future<Output = Result<T, ApiError>>,
    cancelled: &AtomicBool,
) -> Result<T, ApiError> {
    let timed_out = || ApiError::new(ErrorKind::StatementTimeoutException, "Request timed out");
    let mut work = std::pin::pin!(work);
    tokio::select! {
        result = &mut work => return result,
        () = tokio::time::sleep(timeout) => {}
    }
    if continue_after_timeout {
        return Err(timed_out());
    }
    let token = client.cancel_token();
    cancelled.store(true, Ordering::Relaxed);
    if let Err(error) = token.cancel_query(tokio_postgres::NoTls).await {
        tracing::warn!(%error, "could not cancel a timed-out statement");
    }
    match work.await {
        Err(error) if error.sql_state() == Some("57014") => Err(timed_out()),
        finished => finished,
    }
}
