fn main() -> Result<(), lambda_http::Error> {
    functions::http::run(|app, request| Box::pin(functions::invitations::list::respond(app, request)))
}
