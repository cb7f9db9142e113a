//! What the registry ([`crate::registry`]) says of each HTTP endpoint, and how its binary serves it.

use shared::http::Route;

use crate::http::Respond;
use crate::openapi::doc::Doc;

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
    pub respond: Respond,
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
    /// Serves this endpoint for the life of the process: all its binary does.
    ///
    /// # Errors
    /// A configuration error at start-up (reported by Lambda as an init error).
    pub fn serve(&self) -> Result<(), lambda_http::Error> {
        crate::http::serve(self.respond, self.kind == Kind::Issuer)
    }

    /// The name of its constant in [`crate::registry`] (`auth-register` → `AUTH_REGISTER`), which
    /// its generated binary names.
    pub fn constant(&self) -> String {
        self.name.to_uppercase().replace('-', "_")
    }
}
