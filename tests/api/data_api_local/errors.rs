//! Error answers arrive as the SDK's typed errors, with the Data API's codes and messages; limits,
//! faults and counters behave as documented.

use std::time::Duration;

use aws_sdk_rdsdata::types::Field;
use data_api_local::{Counters, ErrorKind, Fault, Operation};
use harness::TestDataApi;

use super::{code_and_message, text};

#[tokio::test]
async fn several_statements_in_one_call_are_refused() {
    let api = TestDataApi::start().await.unwrap();
    let result = api
        .execute("CREATE TABLE a (x int); CREATE TABLE b (x int)")
        .send()
        .await;
    let (code, message) = code_and_message(&result.unwrap_err().into_service_error());
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ValidationException", "Multistatements aren't supported.")
    );
    let tables = api
        .execute("SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'b')")
        .send()
        .await
        .unwrap();
    assert_eq!(tables.records.unwrap()[0][0], Field::LongValue(0), "nothing ran");

    // One statement with a trailing semicolon, or a semicolon inside a literal, is one statement.
    api.execute("SELECT 'a;b';").send().await.unwrap();
    api.execute("SELECT 1; -- done").send().await.unwrap();
}

#[tokio::test]
async fn a_unique_violation_is_a_database_error_with_sqlstate_23505() {
    let api = TestDataApi::start().await.unwrap();
    api.execute("CREATE TABLE e (email text CONSTRAINT uq_e_email UNIQUE)")
        .send()
        .await
        .unwrap();
    api.execute("INSERT INTO e VALUES ('a@b.c')")
        .send()
        .await
        .unwrap();
    let result = api.execute("INSERT INTO e VALUES ('a@b.c')").send().await;
    let error = result.unwrap_err().into_service_error();
    assert!(error.is_database_error_exception());
    assert_eq!(
        code_and_message(&error).1,
        "ERROR: duplicate key value violates unique constraint \"uq_e_email\"; SQLState: 23505"
    );
}

#[tokio::test]
async fn a_syntax_error_reports_its_position() {
    let api = TestDataApi::start().await.unwrap();
    let result = api.execute("SELECT FROM WHERE").send().await;
    let (code, message) = code_and_message(&result.unwrap_err().into_service_error());
    assert_eq!(code, "DatabaseErrorException");
    assert_eq!(
        message,
        "ERROR: syntax error at or near \"WHERE\"\n  Position: 13; SQLState: 42601"
    );
}

#[tokio::test]
async fn unsupported_result_types_and_values_are_refused() {
    let api = TestDataApi::start().await.unwrap();
    for sql in [
        "SELECT '1 day'::interval",
        "SELECT 'NaN'::float8",
        "SELECT 'Infinity'::numeric",
        "SELECT 'infinity'::timestamp",
        "SELECT ARRAY['\\x00'::bytea]",
    ] {
        let error = api.execute(sql).send().await.unwrap_err().into_service_error();
        assert!(error.is_unsupported_result_exception(), "{sql}: {error:?}");
    }
}

#[tokio::test]
async fn an_unknown_database_is_reported_as_not_found() {
    let api = TestDataApi::start().await.unwrap();
    let result = api
        .execute("SELECT 1")
        .database("no_such_database_here")
        .send()
        .await;
    let error = result.unwrap_err().into_service_error();
    assert!(error.is_database_not_found_exception(), "{error:?}");
}

#[tokio::test]
async fn execute_sql_is_unsupported_as_on_serverless_v2() {
    let api = TestDataApi::start().await.unwrap();
    #[allow(deprecated)]
    let result = api
        .client
        .execute_sql()
        .db_cluster_or_instance_arn(harness::data_api::RESOURCE_ARN)
        .aws_secret_store_arn(harness::data_api::SECRET_ARN)
        .sql_statements("SELECT 1")
        .send()
        .await;
    assert!(
        result
            .unwrap_err()
            .into_service_error()
            .is_bad_request_exception()
    );
}

#[tokio::test]
async fn a_statement_over_the_timeout_is_cancelled() {
    let api = TestDataApi::start_with(|c| c.statement_timeout = Duration::from_millis(300))
        .await
        .unwrap();
    let result = api.execute("SELECT pg_sleep(30)").send().await;
    let error = result.unwrap_err().into_service_error();
    assert!(error.is_statement_timeout_exception(), "{error:?}");
    let running = api
        .execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        running.records.unwrap()[0][0],
        Field::LongValue(0),
        "the statement was cancelled"
    );
}

#[tokio::test]
async fn injected_resuming_errors_arrive_typed_then_calls_succeed() {
    let api = TestDataApi::start().await.unwrap();
    api.emulator.service.inject(Fault {
        operations: Some(vec![Operation::ExecuteStatement]),
        ..Fault::new(ErrorKind::DatabaseResumingException, 2)
    });
    for _ in 0..2 {
        let error = api
            .execute("SELECT 1")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(error.is_database_resuming_exception(), "{error:?}");
    }
    let output = api.execute("SELECT 1").send().await.unwrap();
    assert_eq!(output.records.unwrap()[0][0], Field::LongValue(1));
    assert_eq!(
        api.calls().execute_statement,
        3,
        "failed calls are round trips too"
    );
}

#[tokio::test]
async fn faults_and_counters_are_reachable_over_http() {
    let api = TestDataApi::start().await.unwrap();
    let http = reqwest::Client::new();
    let endpoint = api.endpoint();
    let injected = http
        .post(format!("{endpoint}/_local/faults"))
        .json(&serde_json::json!({"error": "ServiceUnavailableError", "count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(injected.status(), 204);
    let error = api.execute("SELECT 1").send().await.unwrap_err();
    let raw = error.raw_response().map(|r| r.status().as_u16());
    assert_eq!(raw, Some(503));
    assert!(error.into_service_error().is_service_unavailable_error());

    api.execute("SELECT :v")
        .parameters(super::param("v", text("x")))
        .send()
        .await
        .unwrap();
    let id = api.begin().send().await.unwrap().transaction_id.unwrap();
    api.commit(&id).send().await.unwrap();

    let stats: serde_json::Value = http
        .get(format!("{endpoint}/_local/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine: Counters = serde_json::from_value(stats["databases"][&api.database.name].clone()).unwrap();
    assert_eq!(
        mine,
        Counters {
            execute_statement: 2,
            begin_transaction: 1,
            commit_transaction: 1,
            total: 4,
            ..Counters::default()
        }
    );
    let reset = http
        .post(format!("{endpoint}/_local/stats/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    assert_eq!(api.calls(), Counters::default());
}
