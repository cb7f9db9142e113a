//! The Data API's documented size limits, reproduced to the byte: requests up to 4 MiB (headers
//! and body together), responses up to 1 MiB, result rows up to 64 KB.

use harness::TestDataApi;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{code_and_message, param, text};

const FOUR_MIB: usize = 4 * 1024 * 1024;

/// An `ExecuteStatement` request of exactly `size` bytes on the wire (request line, headers and
/// body), padded with a string parameter; answers the HTTP status and body.
async fn request_of_exactly(api: &TestDataApi, size: usize) -> (u16, String) {
    let address = api.endpoint().trim_start_matches("http://").to_owned();
    let body_with = |padding: usize| {
        json!({
            "resourceArn": harness::data_api::RESOURCE_ARN,
            "secretArn": harness::data_api::SECRET_ARN,
            "database": api.database.name,
            "sql": "SELECT length(:padding)",
            "parameters": [{"name": "padding", "value": {"stringValue": "x".repeat(padding)}}],
        })
        .to_string()
    };
    let head_for = |body: &str| {
        format!(
            "POST /Execute HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
             connection: close\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
    };
    // Pad until the whole request is `size` bytes (the content-length's own digits count too).
    let mut padding = size;
    let request = loop {
        let body = body_with(padding);
        let request = head_for(&body) + &body;
        match request.len().cmp(&size) {
            std::cmp::Ordering::Equal => break request,
            std::cmp::Ordering::Greater => padding -= request.len() - size,
            std::cmp::Ordering::Less => padding += size - request.len(),
        }
    };
    assert_eq!(request.len(), size);

    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[tokio::test]
async fn a_request_of_four_mebibytes_is_run_and_one_byte_more_is_refused() {
    let api = TestDataApi::start().await.unwrap();
    let (status, body) = request_of_exactly(&api, FOUR_MIB).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("longValue"), "{body}");

    let (status, body) = request_of_exactly(&api, FOUR_MIB + 1).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("BadRequestException"), "{body}");
    assert_eq!(
        api.emulator.service.stats().all.total,
        1,
        "the refused request never ran"
    );
}

#[tokio::test]
async fn the_sdk_sees_a_request_over_four_mebibytes_refused_as_a_bad_request() {
    let api = TestDataApi::start().await.unwrap();
    let fits = "y".repeat(FOUR_MIB - 16 * 1024);
    api.execute("SELECT length(:p)")
        .parameters(param("p", text(&fits)))
        .send()
        .await
        .expect("a request under 4 MiB, headers included");
    let too_large = "y".repeat(FOUR_MIB);
    let error = api
        .execute("SELECT length(:p)")
        .parameters(param("p", text(&too_large)))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_bad_request_exception(), "{error:?}");
    assert!(code_and_message(&error).1.contains("Request size exceeds"));
}

#[tokio::test]
async fn a_row_of_64_kb_is_returned_and_one_byte_more_is_refused() {
    let api = TestDataApi::start().await.unwrap();
    // Two columns, so the limit is on the row, not on a value.
    let at_limit = api
        .execute("SELECT repeat('a', 32768) AS a, repeat('b', 32768) AS b")
        .send()
        .await
        .expect("a row of exactly 64 KB");
    assert_eq!(at_limit.records().len(), 1);

    let error = api
        .execute("SELECT repeat('a', 32768) AS a, repeat('b', 32769) AS b")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_bad_request_exception(), "{error:?}");
    assert_eq!(code_and_message(&error).1, data_api_local::engine::ROW_TOO_LARGE);
}

#[tokio::test]
async fn responses_over_one_mebibyte_are_refused_even_when_every_row_fits() {
    let api = TestDataApi::start().await.unwrap();
    // 60,000-byte rows: 17 make about 1.02 MB of response, 18 about 1.08 MB (over 1 MiB).
    api.execute("SELECT repeat('x', 60000) FROM generate_series(1, 17)")
        .send()
        .await
        .expect("just under 1 MiB");
    let error = api
        .execute("SELECT repeat('x', 60000) FROM generate_series(1, 18)")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_bad_request_exception());
    assert_eq!(
        code_and_message(&error).1,
        "Database returned more than the allowed response size limit"
    );
}
