//! `columnMetadata` for `includeResultMetadata: true`, with the values Aurora's Data API reports
//! through pgjdbc: `typeName` as PostgreSQL names the type (`int4`, `uuid`, `_text`), `type` as a
//! `java.sql.Types` code, JDBC precision and scale, and nullability and table names looked up in
//! the catalog for columns that come straight from a table.

use tokio_postgres::types::{Kind, Type};
use tokio_postgres::{Client, Column};

use crate::error::ApiError;
use crate::protocol::ColumnMetadata;

// java.sql.Types
const BIT: i32 = -7;
const BIGINT: i32 = -5;
const BINARY: i32 = -2;
const CHAR: i32 = 1;
const NUMERIC: i32 = 2;
const INTEGER: i32 = 4;
const SMALLINT: i32 = 5;
const REAL: i32 = 7;
const DOUBLE: i32 = 8;
const VARCHAR: i32 = 12;
const DATE: i32 = 91;
const TIME: i32 = 92;
const TIMESTAMP: i32 = 93;
const OTHER: i32 = 1111;
const ARRAY: i32 = 2003;

const NO_NULLS: i32 = 0;
const NULLABLE: i32 = 1;
const UNKNOWN_LENGTH: i32 = i32::MAX;

/// Builds the metadata of `columns`, asking the catalog once about those that belong to a table.
///
/// # Errors
/// A database error from the catalog query.
pub async fn describe(client: &Client, columns: &[Column]) -> Result<Vec<ColumnMetadata>, ApiError> {
    let table_columns: Vec<(u32, i16)> = columns
        .iter()
        .filter_map(|c| Some((c.table_oid()?, c.column_id()?)))
        .filter(|(oid, _)| *oid != 0)
        .collect();
    let catalog = lookup(client, &table_columns).await?;
    Ok(columns
        .iter()
        .map(|column| {
            let found = column
                .table_oid()
                .zip(column.column_id())
                .and_then(|key| catalog.iter().find(|c| (c.oid, c.attnum) == key));
            metadata(column, found)
        })
        .collect())
}

struct CatalogColumn {
    oid: u32,
    attnum: i16,
    schema: String,
    table: String,
    not_null: bool,
    serial: bool,
}

async fn lookup(client: &Client, keys: &[(u32, i16)]) -> Result<Vec<CatalogColumn>, ApiError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let oids: Vec<u32> = keys.iter().map(|k| k.0).collect();
    let rows = client
        .query(
            "SELECT c.oid, a.attnum, n.nspname::text, c.relname::text, a.attnotnull, \
                    coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%' OR a.attidentity <> '', false) \
             FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = ANY($1) AND a.attnum > 0",
            &[&oids],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| CatalogColumn {
            oid: row.get(0),
            attnum: row.get(1),
            schema: row.get(2),
            table: row.get(3),
            not_null: row.get(4),
            serial: row.get(5),
        })
        .collect())
}

fn metadata(column: &Column, catalog: Option<&CatalogColumn>) -> ColumnMetadata {
    let ty = column.type_();
    let typmod = column.type_modifier();
    let (precision, scale) = precision_and_scale(ty, typmod);
    ColumnMetadata {
        name: column.name().to_owned(),
        label: column.name().to_owned(),
        type_name: ty.name().to_owned(),
        jdbc_type: jdbc_type(ty),
        nullable: if catalog.is_some_and(|c| c.not_null) {
            NO_NULLS
        } else {
            NULLABLE
        },
        precision,
        scale,
        schema_name: catalog.map(|c| c.schema.clone()).unwrap_or_default(),
        table_name: catalog.map(|c| c.table.clone()).unwrap_or_default(),
        is_signed: matches!(
            *ty,
            Type::INT2 | Type::INT4 | Type::INT8 | Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC
        ),
        is_currency: *ty == Type::MONEY,
        is_case_sensitive: matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::CHAR | Type::JSON | Type::JSONB
        ),
        is_auto_increment: catalog.is_some_and(|c| c.serial),
        array_base_column_type: match ty.kind() {
            Kind::Array(element) => jdbc_type(element),
            _ => 0,
        },
    }
}

fn jdbc_type(ty: &Type) -> i32 {
    if matches!(ty.kind(), Kind::Array(_)) {
        return ARRAY;
    }
    match *ty {
        Type::BOOL => BIT,
        Type::INT2 => SMALLINT,
        Type::INT4 | Type::OID => INTEGER,
        Type::INT8 => BIGINT,
        Type::FLOAT4 => REAL,
        Type::FLOAT8 => DOUBLE,
        Type::NUMERIC => NUMERIC,
        Type::BPCHAR | Type::CHAR => CHAR,
        Type::TEXT | Type::VARCHAR | Type::NAME => VARCHAR,
        Type::BYTEA => BINARY,
        Type::DATE => DATE,
        Type::TIME | Type::TIMETZ => TIME,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => TIMESTAMP,
        _ => OTHER,
    }
}

/// pgjdbc's precision and scale for a type and its modifier (-1 when the column has none).
fn precision_and_scale(ty: &Type, typmod: i32) -> (i32, i32) {
    let fraction_digits = if typmod < 0 { 6 } else { typmod };
    match *ty {
        Type::BOOL => (1, 0),
        Type::INT2 => (5, 0),
        Type::INT4 | Type::OID => (10, 0),
        Type::INT8 => (19, 0),
        Type::FLOAT4 => (8, 8),
        Type::FLOAT8 => (17, 17),
        Type::NUMERIC if typmod >= 4 => (((typmod - 4) >> 16) & 0xffff, (typmod - 4) & 0xffff),
        Type::NUMERIC => (0, 0),
        Type::BPCHAR | Type::VARCHAR if typmod >= 4 => (typmod - 4, 0),
        Type::CHAR => (1, 0),
        Type::NAME => (63, 0),
        Type::UUID => (36, 0),
        Type::DATE => (13, 0),
        Type::TIME => (
            8 + fraction_digits + i32::from(fraction_digits > 0),
            fraction_digits,
        ),
        Type::TIMESTAMP => (
            19 + fraction_digits + i32::from(fraction_digits > 0),
            fraction_digits,
        ),
        Type::TIMESTAMPTZ => (
            25 + fraction_digits + i32::from(fraction_digits > 0),
            fraction_digits,
        ),
        _ => (UNKNOWN_LENGTH, 0),
    }
}
