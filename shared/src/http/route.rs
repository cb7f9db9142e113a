//! Routes: an endpoint's method and path template, and the path and query parameters of a request.

use std::collections::HashMap;

use lambda_http::{Request, RequestExt};

use super::ApiError;

/// An endpoint's method and path template, e.g. `GET /accounts/{account_id}`: the contract that
/// template.yaml, the local router config and the handler share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

/// Whether requests of `method` write: a household write locks its household and may carry an
/// `Idempotency-Key`.
pub fn writes(method: &str) -> bool {
    matches!(method, "POST" | "PATCH" | "PUT" | "DELETE")
}

impl Route {
    pub const fn new(method: &'static str, path: &'static str) -> Self {
        Self { method, path }
    }

    /// The path parameters of `request`: those API Gateway put in the event, or, for a router
    /// that passes only the raw path, those read by matching the path against the template.
    pub fn parameters(&self, request: &Request) -> HashMap<String, String> {
        let from_event = request.path_parameters();
        let mut parameters: HashMap<String, String> = from_event
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        if parameters.is_empty() {
            parameters = self.match_path(request.uri().path()).unwrap_or_default();
        }
        parameters
    }

    /// The id in path parameter `name`, parsed; an absent or malformed id is 404, like an unknown
    /// or foreign one (it names nothing the caller can see).
    ///
    /// # Errors
    /// [`ApiError::NotFound`].
    pub fn id<T>(
        &self,
        request: &Request,
        name: &str,
        parse: impl Fn(&str) -> Result<T, crate::domain::ParseError>,
    ) -> Result<T, ApiError> {
        self.parameters(request)
            .get(name)
            .and_then(|text| parse(text).ok())
            .ok_or(ApiError::NotFound)
    }

    /// Matches a concrete path against the template; `None` if it does not fit.
    pub fn match_path(&self, path: &str) -> Option<HashMap<String, String>> {
        let template: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        let actual: Vec<&str> = path.trim_matches('/').split('/').collect();
        if template.len() != actual.len() {
            return None;
        }
        let mut parameters = HashMap::new();
        for (pattern, segment) in template.iter().zip(&actual) {
            match pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => {
                    parameters.insert(name.to_owned(), (*segment).to_owned());
                }
                None if pattern == segment => {}
                None => return None,
            }
        }
        Some(parameters)
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// A `true`/`false` query parameter; absent is `false`.
///
/// # Errors
/// 422 naming the parameter for any other value.
pub fn query_flag(request: &Request, name: &str) -> Result<bool, ApiError> {
    match request.query_string_parameters_ref().and_then(|q| q.first(name)) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid(name, "must be true or false")),
    }
}
