fn main() -> Result<(), lambda_http::Error> {
    functions::http::run(|app, request| Box::pin(functions::auth::password::respond(app, request)))
}
