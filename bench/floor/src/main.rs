//! The smallest useful HTTP Lambda: answers every request "hello". `cargo xtask bench` starts it
//! the same way as the real functions to measure this machine's cold-start floor.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
