#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::http::serve(functions::categories::create::respond).await
}
