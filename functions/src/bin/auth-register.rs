fn main() -> Result<(), lambda_http::Error> {
    functions::http::run_issuing(|app, request| Box::pin(functions::auth::register::respond(app, request)))
}
