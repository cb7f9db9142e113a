//! Parameters bind with the types Aurora's Data API declares, so type mistakes fail here as there.

use aws_sdk_rdsdata::primitives::Blob;
use aws_sdk_rdsdata::types::{ArrayValue, Field, TypeHint};
use harness::TestDataApi;

use super::{code_and_message, hinted, param, text};

#[tokio::test]
async fn each_value_kind_binds_as_its_declared_type() {
    let api = TestDataApi::start().await.unwrap();
    let output = api
        .execute(
            "SELECT pg_typeof(:s)::text, pg_typeof(:l)::text, pg_typeof(:d)::text, pg_typeof(:b)::text, \
                    pg_typeof(:blob)::text, pg_typeof(:date)::text, pg_typeof(:time)::text, \
                    pg_typeof(:ts)::text, pg_typeof(:dec)::text, pg_typeof(:uuid)::text, pg_typeof(:json)::text",
        )
        .parameters(param("s", text("x")))
        .parameters(param("l", Field::LongValue(1)))
        .parameters(param("d", Field::DoubleValue(1.0)))
        .parameters(param("b", Field::BooleanValue(true)))
        .parameters(param("blob", Field::BlobValue(Blob::new(vec![1u8]))))
        .parameters(hinted("date", "2024-01-02", TypeHint::Date))
        .parameters(hinted("time", "03:04:05.123", TypeHint::Time))
        .parameters(hinted("ts", "2024-01-02 03:04:05", TypeHint::Timestamp))
        .parameters(hinted("dec", "12.50", TypeHint::Decimal))
        .parameters(hinted("uuid", "0190a5e6-7b1c-7cc3-8d2e-5f6a7b8c9d0e", TypeHint::Uuid))
        .parameters(hinted("json", r#"{"k": 1}"#, TypeHint::Json))
        .send()
        .await
        .unwrap();
    let types: Vec<String> = output.records.unwrap()[0]
        .iter()
        .map(|f| f.as_string_value().unwrap().clone())
        .collect();
    assert_eq!(
        types,
        [
            "character varying",
            "bigint",
            "double precision",
            "boolean",
            "bytea",
            "date",
            "time without time zone",
            "timestamp without time zone",
            "numeric",
            "uuid",
            "json"
        ]
    );
}

#[tokio::test]
async fn values_round_trip_through_a_table() {
    let api = TestDataApi::start().await.unwrap();
    api.execute(
        "CREATE TABLE t (id uuid PRIMARY KEY, n bigint, x float8, ok bool, raw bytea, d date, at timestamptz, \
                         amount numeric(12,2), doc jsonb, note text)",
    )
    .send()
    .await
    .unwrap();
    let id = "0190a5e6-7b1c-7cc3-8d2e-5f6a7b8c9d0e";
    api.execute("INSERT INTO t VALUES (:id, :n, :x, :ok, :raw, :d, :at, :amount, :doc, :note)")
        .parameters(hinted("id", id, TypeHint::Uuid))
        .parameters(param("n", Field::LongValue(-5)))
        .parameters(param("x", Field::DoubleValue(2.25)))
        .parameters(param("ok", Field::BooleanValue(false)))
        .parameters(param("raw", Field::BlobValue(Blob::new(vec![0u8, 255]))))
        .parameters(hinted("d", "2024-02-29", TypeHint::Date))
        .parameters(hinted("at", "2024-02-29 23:59:59.999", TypeHint::Timestamp))
        .parameters(hinted("amount", "-12.34", TypeHint::Decimal))
        .parameters(hinted("doc", r#"{"a":1}"#, TypeHint::Json))
        .parameters(param("note", Field::IsNull(true)))
        .send()
        .await
        .unwrap();
    let output = api
        .execute("SELECT * FROM t WHERE id = :id")
        .parameters(hinted("id", id, TypeHint::Uuid))
        .send()
        .await
        .unwrap();
    assert_eq!(
        output.records.unwrap()[0],
        vec![
            text(id),
            Field::LongValue(-5),
            Field::DoubleValue(2.25),
            Field::BooleanValue(false),
            Field::BlobValue(Blob::new(vec![0u8, 255])),
            text("2024-02-29"),
            text("2024-02-29 23:59:59.999"),
            text("-12.34"),
            text(r#"{"a": 1}"#),
            Field::IsNull(true),
        ]
    );
}

#[tokio::test]
async fn an_unhinted_string_against_a_uuid_column_fails_as_on_aurora() {
    let api = TestDataApi::start().await.unwrap();
    api.execute("CREATE TABLE u (id uuid PRIMARY KEY)")
        .send()
        .await
        .unwrap();
    let id = "0190a5e6-7b1c-7cc3-8d2e-5f6a7b8c9d0e";

    let compare = api
        .execute("SELECT id FROM u WHERE id = :id")
        .parameters(param("id", text(id)))
        .send()
        .await;
    let error = compare.unwrap_err().into_service_error();
    assert!(error.is_database_error_exception(), "{error:?}");
    let (_, message) = code_and_message(&error);
    assert!(
        message.starts_with("ERROR: operator does not exist: uuid = character varying"),
        "{message}"
    );
    assert!(message.contains("\n  Hint: "), "{message}");
    assert!(message.ends_with("; SQLState: 42883"), "{message}");

    let insert = api
        .execute("INSERT INTO u VALUES (:id)")
        .parameters(param("id", text(id)))
        .send()
        .await;
    let (_, message) = code_and_message(&insert.unwrap_err().into_service_error());
    assert!(
        message
            .starts_with("ERROR: column \"id\" is of type uuid but expression is of type character varying"),
        "{message}"
    );
    assert!(message.ends_with("; SQLState: 42804"), "{message}");

    for sql in [
        "INSERT INTO u VALUES (:id::uuid)",
        "SELECT id FROM u WHERE id = CAST(:id AS uuid)",
        "SELECT id FROM u WHERE id = :id::uuid",
    ] {
        api.execute(sql)
            .parameters(param("id", text(id)))
            .send()
            .await
            .expect(sql);
    }
    let hinted_select = api
        .execute("SELECT id FROM u WHERE id = :id")
        .parameters(hinted("id", id, TypeHint::Uuid))
        .send()
        .await
        .unwrap();
    assert_eq!(hinted_select.records.unwrap(), vec![vec![text(id)]]);
}

#[tokio::test]
async fn a_null_parameter_takes_its_type_from_the_context() {
    let api = TestDataApi::start().await.unwrap();
    api.execute("CREATE TABLE u (id uuid, at timestamptz)")
        .send()
        .await
        .unwrap();
    api.execute("INSERT INTO u VALUES (:id, :at)")
        .parameters(param("id", Field::IsNull(true)))
        .parameters(param("at", Field::IsNull(true)))
        .send()
        .await
        .unwrap();
    let count = api
        .execute("SELECT count(*) FROM u WHERE id IS NULL")
        .send()
        .await
        .unwrap();
    assert_eq!(count.records.unwrap()[0][0], Field::LongValue(1));
}

#[tokio::test]
async fn timestamp_hints_take_only_the_jdbc_format() {
    let api = TestDataApi::start().await.unwrap();
    for bad in [
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05",
        "2024-01-02",
        "2024-01-02 3:04:05",
    ] {
        let result = api
            .execute("SELECT :at")
            .parameters(hinted("at", bad, TypeHint::Timestamp))
            .send()
            .await;
        let error = result.unwrap_err().into_service_error();
        assert!(error.is_bad_request_exception(), "{bad}: {error:?}");
    }
    for bad_date in ["2024/01/02", "20240102"] {
        let result = api
            .execute("SELECT :d")
            .parameters(hinted("d", bad_date, TypeHint::Date))
            .send()
            .await;
        assert!(
            result
                .unwrap_err()
                .into_service_error()
                .is_bad_request_exception(),
            "{bad_date}"
        );
    }
    let bad_decimal = api
        .execute("SELECT :n")
        .parameters(hinted("n", "12,5", TypeHint::Decimal))
        .send()
        .await;
    assert!(
        bad_decimal
            .unwrap_err()
            .into_service_error()
            .is_bad_request_exception()
    );
}

#[tokio::test]
async fn array_parameters_are_rejected() {
    let api = TestDataApi::start().await.unwrap();
    let result = api
        .execute("SELECT :xs")
        .parameters(param(
            "xs",
            Field::ArrayValue(ArrayValue::LongValues(vec![Some(1), Some(2)])),
        ))
        .send()
        .await;
    let error = result.unwrap_err().into_service_error();
    assert!(error.is_bad_request_exception(), "{error:?}");
    assert_eq!(code_and_message(&error).1, "Array parameters are not supported.");
}

#[tokio::test]
async fn placeholders_inside_literals_comments_and_casts_are_left_alone() {
    let api = TestDataApi::start().await.unwrap();
    let output = api
        .execute(
            "SELECT ':a' AS literal, $$:a$$ AS dollar, :a::text AS cast_param, 2::int8 AS cast_literal, \
                    :a || :a AS reused -- :nope\n /* :nope */",
        )
        .parameters(param("a", text("v")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        output.records.unwrap()[0],
        vec![text(":a"), text(":a"), text("v"), Field::LongValue(2), text("vv")]
    );
}

#[tokio::test]
async fn a_placeholder_without_a_parameter_is_a_bad_request() {
    let api = TestDataApi::start().await.unwrap();
    let result = api.execute("SELECT :missing").send().await;
    let error = result.unwrap_err().into_service_error();
    assert!(error.is_bad_request_exception(), "{error:?}");
    assert!(code_and_message(&error).1.contains("missing"));
}
