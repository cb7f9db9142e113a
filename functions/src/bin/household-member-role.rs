#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::http::serve(functions::household::member_role::respond).await
}
