fn main() -> Result<(), lambda_http::Error> {
    functions::http::run_issuing(|app, request| {
        Box::pin(functions::invitations::accept::respond(app, request))
    })
}
