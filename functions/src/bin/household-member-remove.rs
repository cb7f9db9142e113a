#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::http::serve(functions::household::member_remove::respond).await
}
