#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    functions::http::serve(functions::categories::group_update::respond).await
}
