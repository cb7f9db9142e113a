//! What the registry ([`crate::registry`]) says of each HTTP endpoint, and how its binary serves it.

use std::pin::Pin;

use lambda_http::{Body, Request, Response};
use shared::http::{ApiError, Reply, Route};

use crate::app::App;
use crate::openapi::doc::Doc;

/// An endpoint's own work, from request to reply (its module's `handle`); the glue
/// ([`crate::http::respond`]) does the rest for every endpoint alike.
pub type Handle = fn(App, Request) -> Pin<Box<dyn Future<Output = Result<Reply, ApiError>> + Send>>;

/// One HTTP endpoint: everything the binaries, template.yaml, the local router, openapi.json, the
/// bench and the tests derive from or check against.
pub struct Endpoint {
    /// The binary's name, and the operation id in openapi.json.
    pub name: &'static str,
    pub route: Route,
    pub kind: Kind,
    /// Data API calls per request (without an `Idempotency-Key`), as the bench counts them.
    pub budget: u32,
    pub doc: fn() -> Doc,
    pub handle: Handle,
}

/// What an endpoint's function may reach, which decides its IAM role in template.yaml.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The database, with the caller's token or none.
    Api,
    /// The database and the token signing secret: it answers new sessions.
    Issuer,
    /// Neither: it makes no database call (the API's own description).
    Public,
}

impl Endpoint {
    /// Serves this endpoint for the life of the process, all its binary does: logging and
    /// configuration are set up once, then every request goes through [`Self::call`]. A function
    /// that issues access tokens ([`Kind::Issuer`]) cannot start without knowing where its signing
    /// key is ([`crate::signing`]).
    ///
    /// Not generic on purpose: the Tokio runtime, `lambda_http`'s service stack, hyper and the glue
    /// are compiled once, here, instead of once in each binary (one per endpoint; see
    /// docs/performance.md, build time).
    ///
    /// # Errors
    /// A configuration error at start-up (reported by Lambda as an init error).
    pub fn serve(&'static self) -> Result<(), lambda_http::Error> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(async move {
                crate::telemetry::init();
                let app = if self.kind == Kind::Issuer {
                    App::from_env_issuing().await?
                } else {
                    App::from_env().await?
                };
                // Lives as long as the process: built once per cold start, shared by every invocation.
                let app: &'static App = Box::leak(Box::new(app));
                lambda_http::run(lambda_http::service_fn(move |request| self.call(app, request))).await
            })
    }

    /// Answers `request` as this endpoint's binary does: through the glue, into its handler.
    ///
    /// # Errors
    /// None in practice; the signature is what `lambda_http` expects.
    pub async fn call(&self, app: &App, request: Request) -> Result<Response<Body>, lambda_http::Error> {
        crate::http::respond(app, self.route, request, self.handle).await
    }

    /// The name of its constant in [`crate::registry`] (`auth-register` → `AUTH_REGISTER`), which
    /// its generated binary names.
    pub fn constant(&self) -> String {
        self.name.to_uppercase().replace('-', "_")
    }
}
