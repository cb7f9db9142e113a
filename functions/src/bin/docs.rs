fn main() -> Result<(), lambda_http::Error> {
    functions::http::run(|app, request| Box::pin(functions::openapi::docs::respond(app, request)))
}
