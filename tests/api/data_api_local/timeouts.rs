//! Statement timeouts injected at run time: the statement is cancelled midway and nothing it did
//! stays, and the cancel never reaches another caller's statement on the same connection.

use aws_sdk_rdsdata::types::Field;
use data_api_local::{ErrorKind, Fault, Operation};
use harness::TestDataApi;

fn timeout_after(ms: u64, count: u32) -> Fault {
    Fault {
        timeout_ms: Some(ms),
        operations: Some(vec![Operation::ExecuteStatement]),
        ..Fault::new(ErrorKind::StatementTimeoutException, count)
    }
}

async fn count_rows(api: &TestDataApi) -> Field {
    let output = api.execute("SELECT count(*) FROM written").send().await.unwrap();
    output.records.unwrap()[0][0].clone()
}

#[tokio::test]
async fn a_write_cancelled_by_an_injected_timeout_leaves_nothing() {
    let api = TestDataApi::start().await.unwrap();
    api.execute("CREATE TABLE written (x int)").send().await.unwrap();
    api.emulator.service.inject(timeout_after(100, 1));
    let error = api
        .execute("INSERT INTO written SELECT 1 FROM pg_sleep(2)")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_statement_timeout_exception(), "{error:?}");
    assert_eq!(
        count_rows(&api).await,
        Field::LongValue(0),
        "the insert was rolled back"
    );
    let errors = api.emulator.service.stats().errors;
    assert_eq!(errors.get("StatementTimeoutException"), Some(&1), "{errors:?}");
}

#[tokio::test]
async fn a_statement_within_an_injected_timeout_is_answered() {
    let api = TestDataApi::start().await.unwrap();
    api.execute("CREATE TABLE written (x int)").send().await.unwrap();
    api.emulator.service.inject(timeout_after(5_000, 1));
    api.execute("INSERT INTO written VALUES (1)")
        .send()
        .await
        .unwrap();
    assert_eq!(count_rows(&api).await, Field::LongValue(1));
}

/// One pooled connection, so each statement runs where the last cancel was sent. Timeouts of
/// 0–2 ms land before, during and after the statement. Before the fix, a cancel PostgreSQL acted
/// on late stopped the next statement with SQLState 57014, in most runs of these 200 rounds.
#[tokio::test]
async fn a_late_cancel_never_stops_the_next_statement() {
    let api = TestDataApi::start_with(|c| c.pool_size = 1).await.unwrap();
    api.execute("CREATE TABLE written (x int)").send().await.unwrap();
    let mut answered = 0;
    for round in 0..200_u64 {
        api.emulator.service.inject(timeout_after(round % 3, 1));
        match api.execute("INSERT INTO written VALUES (1)").send().await {
            Ok(_) => answered += 1,
            Err(error) => {
                let error = error.into_service_error();
                assert!(error.is_statement_timeout_exception(), "{error:?}");
            }
        }
        // Long enough for a late cancel to land in it.
        api.execute("SELECT pg_sleep(0.004)")
            .send()
            .await
            .expect("no cancel meant for another statement");
    }
    assert_eq!(
        count_rows(&api).await,
        Field::LongValue(answered),
        "every insert answered is there, every one timed out is not"
    );
}
