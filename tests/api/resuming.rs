//! An auto-paused cluster: requests retry while it resumes, and one that cannot wait any longer
//! answers 503 with `Retry-After` before its Lambda deadline, never a gateway timeout.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use data_api_local::{ErrorKind, Fault};
use harness::TestApp;
use harness::app::{event, request};
use lambda_http::RequestExt;

/// A `GET /me` whose invocation has `timeout` left, as the Lambda runtime attaches it.
fn me_request(token: &str, timeout: Duration) -> lambda_http::Request {
    let deadline = SystemTime::now() + timeout;
    let mut context = lambda_http::Context::default();
    context.deadline = u64::try_from(deadline.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap();
    request(&event(
        "GET",
        "/me",
        &[("authorization", &format!("Bearer {token}"))],
        None,
    ))
    .with_lambda_context(context)
}

fn resuming(count: u32) -> Fault {
    Fault::new(ErrorKind::DatabaseResumingException, count)
}

#[tokio::test]
async fn a_request_waits_for_a_resuming_cluster_within_its_deadline() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    let token = session["access_token"].as_str().unwrap();
    app.reset_calls();
    app.api.emulator.service.inject(resuming(2));
    let response = app
        .send(
            &functions::registry::ME,
            me_request(token, Duration::from_secs(10)),
        )
        .await;
    assert_eq!(response.status, 200, "{:?}", response.body);
    assert_eq!(app.calls(), 3, "two refused attempts, then the query");
}

#[tokio::test]
async fn a_cluster_still_resuming_at_the_deadline_answers_503_with_retry_after() {
    let app = TestApp::spawn().await.unwrap();
    let session = app.register("ada@example.com").await;
    let token = session["access_token"].as_str().unwrap();
    app.api.emulator.service.inject(resuming(u32::MAX));
    let timeout = functions::http::ANSWER_MARGIN + Duration::from_secs(1);
    let started = Instant::now();
    let response = app
        .send(&functions::registry::ME, me_request(token, timeout))
        .await;
    let took = started.elapsed();
    assert_eq!(response.status, 503, "{:?}", response.body);
    assert_eq!(response.header("content-type"), Some("application/problem+json"));
    let retry_after: u64 = response.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after > 0);
    assert!(
        took < timeout,
        "answered after {took:?}, past the invocation's {timeout:?}: Lambda would have cut it off"
    );
    assert!(app.calls() > 1, "it retried before giving up");
}
