#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::http::serve(functions::household::get::respond).await
}
