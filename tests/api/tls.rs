//! The functions' HTTPS clients trust Mozilla's root certificates compiled into the binary (no
//! certificate files read at cold start); a broken trust store must fail here, not on AWS.

#[tokio::test]
async fn the_https_client_builds_its_compiled_in_trust_store_and_speaks_tls() {
    // A server that answers a TLS ClientHello with plain text: the call must fail as a TLS
    // error, which shows the client built its trust store (a bad certificate in it would panic
    // while building the connector) and attempted a handshake.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut hello = [0u8; 512];
            let _ = socket.read(&mut hello).await;
            let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let config = aws_sdk_rdsdata::Config::builder()
        .behavior_version(aws_sdk_rdsdata::config::BehaviorVersion::latest())
        .region(aws_sdk_rdsdata::config::Region::new("us-east-1"))
        .endpoint_url(format!("https://127.0.0.1:{port}"))
        .http_client(shared::db::https_client())
        .credentials_provider(aws_sdk_rdsdata::config::Credentials::new(
            "x", "y", None, None, "test",
        ))
        .retry_config(aws_sdk_rdsdata::config::retry::RetryConfig::disabled())
        .build();
    let error = aws_sdk_rdsdata::Client::from_conf(config)
        .execute_statement()
        .resource_arn("arn")
        .secret_arn("arn")
        .sql("SELECT 1")
        .send()
        .await
        .unwrap_err();
    let text = format!("{}", aws_sdk_rdsdata::error::DisplayErrorContext(&error)).to_lowercase();
    assert!(
        text.contains("tls") || text.contains("corrupt") || text.contains("handshake"),
        "{text}"
    );
}
