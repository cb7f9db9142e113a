//! Golden tests: each PostgreSQL type comes back as the Data API returns it.

use aws_sdk_rdsdata::types::{
    ArrayValue, DecimalReturnType, Field, LongReturnType, RecordsFormatType, ResultSetOptions,
};
use harness::TestDataApi;

async fn row(api: &TestDataApi, sql: &str) -> Vec<Field> {
    let output = api.execute(sql).send().await.expect(sql);
    let mut records = output.records.expect("a query returns records");
    assert_eq!(records.len(), 1, "{sql}");
    records.remove(0)
}

fn s(value: &str) -> Field {
    Field::StringValue(value.to_owned())
}

#[tokio::test]
async fn scalar_types_map_to_their_fields() {
    let api = TestDataApi::start().await.unwrap();
    let cases: &[(&str, Field)] = &[
        ("SELECT true", Field::BooleanValue(true)),
        ("SELECT 7::int2", Field::LongValue(7)),
        ("SELECT (-2147483648)::int4", Field::LongValue(-2_147_483_648)),
        ("SELECT pg_sleep(0)", s("")),
        ("SELECT 9223372036854775807::int8", Field::LongValue(i64::MAX)),
        ("SELECT 1.5::float4", Field::DoubleValue(1.5)),
        ("SELECT 0.1::float8", Field::DoubleValue(0.1)),
        ("SELECT 'héllo'::text", s("héllo")),
        ("SELECT 'x'::varchar(3)", s("x")),
        ("SELECT 'ab'::char(4)", s("ab  ")),
        (
            "SELECT '0190a5e6-7b1c-7cc3-8d2e-5f6a7b8c9d0e'::uuid",
            s("0190a5e6-7b1c-7cc3-8d2e-5f6a7b8c9d0e"),
        ),
        (r#"SELECT '{"a": [1, 2]}'::json"#, s(r#"{"a": [1, 2]}"#)),
        (r#"SELECT '{"a": [1, 2]}'::jsonb"#, s(r#"{"a": [1, 2]}"#)),
        ("SELECT '2024-02-29'::date", s("2024-02-29")),
        ("SELECT '1999-12-31'::date", s("1999-12-31")),
        ("SELECT '0001-01-01'::date", s("0001-01-01")),
        ("SELECT '13:14:15'::time", s("13:14:15")),
        ("SELECT '13:14:15.5'::time", s("13:14:15.5")),
        (
            "SELECT '\\xdeadbeef'::bytea",
            Field::BlobValue(vec![0xde, 0xad, 0xbe, 0xef].into()),
        ),
        ("SELECT NULL::uuid", Field::IsNull(true)),
        ("SELECT NULL", Field::IsNull(true)),
    ];
    for (sql, expected) in cases {
        assert_eq!(&row(&api, sql).await[0], expected, "{sql}");
    }
}

#[tokio::test]
async fn numeric_is_its_exact_decimal_text() {
    let api = TestDataApi::start().await.unwrap();
    let cases = [
        ("0", "0"),
        ("-1.50", "-1.50"),
        ("0.0001", "0.0001"),
        ("10000", "10000"),
        (
            "123456789012345678901234567890.123456789",
            "123456789012345678901234567890.123456789",
        ),
        ("-0.000000012", "-0.000000012"),
        ("99999999.99", "99999999.99"),
    ];
    for (input, expected) in cases {
        let sql = format!("SELECT {input}::numeric");
        assert_eq!(row(&api, &sql).await[0], s(expected), "{sql}");
    }
    assert_eq!(row(&api, "SELECT 12.30::numeric(6,3)").await[0], s("12.300"));
}

#[tokio::test]
async fn timestamps_have_zero_to_six_fraction_digits_with_trailing_zeros_trimmed() {
    let api = TestDataApi::start().await.unwrap();
    let cases = [
        ("2024-01-02 03:04:05", "2024-01-02 03:04:05"),
        ("2024-01-02 03:04:05.1", "2024-01-02 03:04:05.1"),
        ("2024-01-02 03:04:05.12", "2024-01-02 03:04:05.12"),
        ("2024-01-02 03:04:05.123", "2024-01-02 03:04:05.123"),
        ("2024-01-02 03:04:05.1234", "2024-01-02 03:04:05.1234"),
        ("2024-01-02 03:04:05.12345", "2024-01-02 03:04:05.12345"),
        ("2024-01-02 03:04:05.123456", "2024-01-02 03:04:05.123456"),
        ("2024-01-02 03:04:05.100", "2024-01-02 03:04:05.1"),
        ("1969-07-20 20:17:40", "1969-07-20 20:17:40"),
    ];
    for (input, expected) in cases {
        let sql = format!("SELECT '{input}'::timestamp");
        assert_eq!(row(&api, &sql).await[0], s(expected), "{sql}");
    }
}

#[tokio::test]
async fn timestamptz_comes_back_in_utc_without_an_offset() {
    let api = TestDataApi::start().await.unwrap();
    let fields = row(
        &api,
        "SELECT '2024-03-04 05:06:07.5+02'::timestamptz, '2024-12-31 23:30:00-05:00'::timestamptz",
    )
    .await;
    assert_eq!(fields, vec![s("2024-03-04 03:06:07.5"), s("2025-01-01 04:30:00")]);
}

#[tokio::test]
async fn arrays_come_back_as_array_values() {
    let api = TestDataApi::start().await.unwrap();
    let fields = row(
        &api,
        "SELECT ARRAY[1,2,3]::int4[], ARRAY['a','b']::text[], ARRAY[true,false], ARRAY[1.5,2.5]::float8[], \
                ARRAY[[1,2],[3,4]]::int8[], '{}'::int4[], ARRAY[1, NULL]::int4[], ARRAY[NULL, 'z']::text[]",
    )
    .await;
    assert_eq!(
        fields,
        vec![
            Field::ArrayValue(ArrayValue::LongValues(vec![Some(1), Some(2), Some(3)])),
            Field::ArrayValue(ArrayValue::StringValues(vec![Some("a".into()), Some("b".into())])),
            Field::ArrayValue(ArrayValue::BooleanValues(vec![Some(true), Some(false)])),
            Field::ArrayValue(ArrayValue::DoubleValues(vec![Some(1.5), Some(2.5)])),
            Field::ArrayValue(ArrayValue::ArrayValues(vec![
                Some(ArrayValue::LongValues(vec![Some(1), Some(2)])),
                Some(ArrayValue::LongValues(vec![Some(3), Some(4)])),
            ])),
            Field::ArrayValue(ArrayValue::StringValues(vec![])),
            Field::ArrayValue(ArrayValue::LongValues(vec![Some(1), None])),
            Field::ArrayValue(ArrayValue::StringValues(vec![None, Some("z".into())])),
        ]
    );
}

#[tokio::test]
async fn result_set_options_change_long_and_decimal_shapes() {
    let api = TestDataApi::start().await.unwrap();
    let output = api
        .execute("SELECT 42::int8, 12.5::numeric, 12::numeric")
        .result_set_options(
            ResultSetOptions::builder()
                .long_return_type(LongReturnType::String)
                .decimal_return_type(DecimalReturnType::DoubleOrLong)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        output.records.unwrap()[0],
        vec![s("42"), Field::DoubleValue(12.5), Field::LongValue(12)]
    );
}

#[tokio::test]
async fn json_format_returns_formatted_records_keyed_by_label() {
    let api = TestDataApi::start().await.unwrap();
    let output = api
        .execute(
            "SELECT 1 AS n, 'a' AS t, NULL::text AS missing, true AS b, 2.50::numeric AS d, \
                    ARRAY[1,2] AS xs, '\\x01ff'::bytea AS raw, '2024-01-02 03:04:05'::timestamp AS at",
        )
        .format_records_as(RecordsFormatType::Json)
        .send()
        .await
        .unwrap();
    assert!(output.records.is_none(), "JSON format replaces records");
    let records: serde_json::Value =
        serde_json::from_str(output.formatted_records.as_deref().unwrap()).unwrap();
    assert_eq!(
        records,
        serde_json::json!([{
            "n": 1, "t": "a", "missing": null, "b": true, "d": "2.50",
            "xs": [1, 2], "raw": "Af8=", "at": "2024-01-02 03:04:05"
        }])
    );
}

#[tokio::test]
async fn column_metadata_describes_types_tables_and_nullability() {
    let api = TestDataApi::start().await.unwrap();
    api.execute(
        "CREATE TABLE item (id uuid PRIMARY KEY, price numeric(12,2) NOT NULL, tags text[], note varchar(40))",
    )
    .send()
    .await
    .unwrap();
    let output = api
        .execute("SELECT id, price, tags, note, 1 AS one FROM item")
        .include_result_metadata(true)
        .send()
        .await
        .unwrap();
    let metadata = output.column_metadata.unwrap();
    let summary: Vec<_> = metadata
        .iter()
        .map(|c| {
            (
                c.name.clone().unwrap(),
                c.type_name.clone().unwrap(),
                c.r#type,
                c.nullable,
                c.precision,
                c.scale,
                c.table_name.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("id".into(), "uuid".into(), 1111, 0, 36, 0, "item".into()),
            ("price".into(), "numeric".into(), 2, 0, 12, 2, "item".into()),
            ("tags".into(), "_text".into(), 2003, 1, i32::MAX, 0, "item".into()),
            ("note".into(), "varchar".into(), 12, 1, 40, 0, "item".into()),
            ("one".into(), "int4".into(), 4, 1, 10, 0, String::new()),
        ]
    );
    assert_eq!(output.records.unwrap().len(), 0);
}

#[tokio::test]
async fn statements_without_results_report_rows_updated() {
    let api = TestDataApi::start().await.unwrap();
    api.execute("CREATE TABLE n (v int)").send().await.unwrap();
    let insert = api
        .execute("INSERT INTO n SELECT generate_series(1, 5)")
        .send()
        .await
        .unwrap();
    assert_eq!(insert.number_of_records_updated, 5);
    assert!(insert.records.is_none());
    let update = api
        .execute("UPDATE n SET v = v + 1 WHERE v > 2")
        .send()
        .await
        .unwrap();
    assert_eq!(update.number_of_records_updated, 3);
    let select = api.execute("SELECT v FROM n WHERE v > 100").send().await.unwrap();
    assert_eq!(
        select.records.unwrap().len(),
        0,
        "an empty result is an empty list"
    );
    assert_eq!(select.number_of_records_updated, 0);
}
