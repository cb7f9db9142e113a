//! Transactions pin one connection: isolated until commit, undone by rollback, forgotten when idle.

use std::time::Duration;

use aws_sdk_rdsdata::types::Field;
use harness::TestDataApi;

use super::{code_and_message, param};

async fn count(api: &TestDataApi, transaction: Option<&str>) -> i64 {
    let output = api
        .execute("SELECT count(*) FROM ledger")
        .set_transaction_id(transaction.map(str::to_owned))
        .send()
        .await
        .unwrap();
    *output.records.unwrap()[0][0].as_long_value().unwrap()
}

async fn with_ledger(adjust: impl FnOnce(&mut data_api_local::Config)) -> TestDataApi {
    let api = TestDataApi::start_with(adjust).await.unwrap();
    api.execute("CREATE TABLE ledger (n int8 PRIMARY KEY)")
        .send()
        .await
        .unwrap();
    api
}

/// Begins a transaction and inserts one row in it; returns the transaction id.
async fn begin_with_one_row(api: &TestDataApi) -> String {
    let id = api.begin().send().await.unwrap().transaction_id.unwrap();
    api.execute("INSERT INTO ledger VALUES (1)")
        .transaction_id(&id)
        .send()
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn writes_are_invisible_outside_until_commit() {
    let api = with_ledger(|_| {}).await;
    let id = begin_with_one_row(&api).await;
    assert_eq!(count(&api, Some(&id)).await, 1);
    assert_eq!(count(&api, None).await, 0);
    let committed = api.commit(&id).send().await.unwrap();
    assert_eq!(
        committed.transaction_status.as_deref(),
        Some("Transaction Committed")
    );
    assert_eq!(count(&api, None).await, 1);
}

#[tokio::test]
async fn rollback_undoes_the_transaction() {
    let api = with_ledger(|_| {}).await;
    let id = begin_with_one_row(&api).await;
    let rolled_back = api.rollback(&id).send().await.unwrap();
    assert_eq!(
        rolled_back.transaction_status.as_deref(),
        Some("Rollback Complete")
    );
    assert_eq!(count(&api, None).await, 0);
    let again = api.commit(&id).send().await.unwrap_err().into_service_error();
    assert!(
        again.is_transaction_not_found_exception(),
        "an ended transaction is gone"
    );
}

#[tokio::test]
async fn an_unknown_transaction_is_not_found_with_status_404() {
    let api = with_ledger(|_| {}).await;
    let error = api
        .execute("SELECT 1")
        .transaction_id("bm90LWEtdHJhbnNhY3Rpb24=")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert!(error.into_service_error().is_transaction_not_found_exception());
    let commit = api
        .commit("bm90LWEtdHJhbnNhY3Rpb24=")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(commit.is_transaction_not_found_exception());
    let rollback = api
        .rollback("bm90LWEtdHJhbnNhY3Rpb24=")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(rollback.is_transaction_not_found_exception());
}

#[tokio::test]
async fn an_idle_transaction_expires_and_is_rolled_back() {
    let api = with_ledger(|c| c.transaction_idle_timeout = Duration::from_millis(200)).await;
    let id = begin_with_one_row(&api).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let error = api
        .execute("SELECT 1")
        .transaction_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_transaction_not_found_exception(), "{error:?}");
    assert_eq!(count(&api, None).await, 0);
}

#[tokio::test]
async fn overlapping_calls_on_one_transaction_are_refused() {
    let api = with_ledger(|_| {}).await;
    let id = api.begin().send().await.unwrap().transaction_id.unwrap();
    let slow = api.execute("SELECT pg_sleep(1)").transaction_id(&id).send();
    let overlapping = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        api.execute("SELECT 1").transaction_id(&id).send().await
    };
    let (slow, overlapping) = tokio::join!(slow, overlapping);
    slow.unwrap();
    let error = overlapping.unwrap_err().into_service_error();
    assert!(error.is_bad_request_exception(), "{error:?}");
    api.commit(&id).send().await.unwrap();
}

#[tokio::test]
async fn an_error_aborts_the_transaction_until_rollback() {
    let api = with_ledger(|_| {}).await;
    let id = begin_with_one_row(&api).await;
    let duplicate = api
        .execute("INSERT INTO ledger VALUES (1)")
        .transaction_id(&id)
        .send()
        .await;
    assert!(
        code_and_message(&duplicate.unwrap_err().into_service_error())
            .1
            .ends_with("SQLState: 23505")
    );
    let aborted = api
        .execute("SELECT 1")
        .transaction_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        code_and_message(&aborted).1.ends_with("SQLState: 25P02"),
        "{aborted:?}"
    );
    api.rollback(&id).send().await.unwrap();
    assert_eq!(count(&api, None).await, 0);
}

#[tokio::test]
async fn an_oversized_response_loses_the_transaction() {
    let api = with_ledger(|_| {}).await;
    let id = begin_with_one_row(&api).await;
    let big = api
        .execute("SELECT repeat('x', 60000) FROM generate_series(1, 40)")
        .transaction_id(&id)
        .send()
        .await;
    assert!(big.unwrap_err().into_service_error().is_bad_request_exception());
    let gone = api.commit(&id).send().await.unwrap_err().into_service_error();
    assert!(gone.is_transaction_not_found_exception());
    assert_eq!(count(&api, None).await, 0);
}

#[tokio::test]
async fn batch_execute_runs_every_parameter_set_or_none() {
    let api = with_ledger(|_| {}).await;
    let sets: Vec<Vec<_>> = (1..=3).map(|n| vec![param("n", Field::LongValue(n))]).collect();
    let output = api
        .batch("INSERT INTO ledger VALUES (:n)")
        .set_parameter_sets(Some(sets))
        .send()
        .await
        .unwrap();
    assert_eq!(output.update_results.unwrap().len(), 3);
    assert_eq!(count(&api, None).await, 3);

    let clashing: Vec<Vec<_>> = [4, 5, 1]
        .iter()
        .map(|n| vec![param("n", Field::LongValue(*n))])
        .collect();
    let failed = api
        .batch("INSERT INTO ledger VALUES (:n)")
        .set_parameter_sets(Some(clashing))
        .send()
        .await;
    assert!(
        failed
            .unwrap_err()
            .into_service_error()
            .is_database_error_exception()
    );
    assert_eq!(count(&api, None).await, 3, "a failed batch leaves nothing behind");
    assert_eq!(api.calls().batch_execute_statement, 2);
}

#[tokio::test]
async fn batch_execute_joins_a_transaction() {
    let api = with_ledger(|_| {}).await;
    let id = api.begin().send().await.unwrap().transaction_id.unwrap();
    let sets: Vec<Vec<_>> = (1..=2).map(|n| vec![param("n", Field::LongValue(n))]).collect();
    api.batch("INSERT INTO ledger VALUES (:n)")
        .transaction_id(&id)
        .set_parameter_sets(Some(sets))
        .send()
        .await
        .unwrap();
    assert_eq!(count(&api, None).await, 0);
    api.rollback(&id).send().await.unwrap();
    assert_eq!(count(&api, None).await, 0);
}
