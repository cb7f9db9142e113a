//! [`Doc`]: what one endpoint says about itself in the OpenAPI document. Each endpoint module has
//! `pub fn doc() -> Doc`, written next to its handler and naming the handler's own request and
//! response types; the answers every endpoint of a kind shares (401 with a token, 400/413/415/422
//! with a body, 404 with an id in the path, 500/503 always) are added here, once, so no endpoint
//! can forget one.

use serde_json::{Map, Value, json};
use shared::domain::Month;
use shared::http::{Problem, Route};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

/// Named schemas a document needs, as (name, schema).
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// A successful answer: status, description, and its content type and schema if it has a body.
type Success = (u16, &'static str, Option<(&'static str, Value)>);

/// One endpoint's documentation; see the module docs.
pub struct Doc {
    pub route: Route,
    summary: &'static str,
    description: Option<&'static str>,
    public: bool,
    unkeyed: bool,
    body: Option<(Value, Option<Value>)>,
    successes: Vec<Success>,
    etag: bool,
    if_match: bool,
    query: Vec<Value>,
    problems: Vec<(u16, &'static str)>,
    schemas: Schemas,
}

/// A `$ref` to the named schema of `T`, remembering `T` and what it refers to in `schemas`.
fn reference<T: ToSchema>(schemas: &mut Schemas) -> Value {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
    json!({ "$ref": format!("#/components/schemas/{}", T::name()) })
}

/// The JSON of a schema.
pub fn schema_json(schema: impl Into<RefOr<Schema>>) -> Value {
    serde_json::to_value(schema.into()).unwrap_or(Value::Null)
}

impl Doc {
    /// An endpoint that takes a Bearer access token, summarised in a line.
    pub fn new(route: Route, summary: &'static str) -> Self {
        Self {
            route,
            summary,
            description: None,
            public: false,
            unkeyed: false,
            body: None,
            successes: Vec::new(),
            etag: false,
            if_match: false,
            query: Vec::new(),
            problems: Vec::new(),
            schemas: Vec::new(),
        }
    }

    /// More about it, in Markdown.
    pub fn about(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }

    /// Needs no token.
    pub fn public(mut self) -> Self {
        self.public = true;
        self
    }

    /// Whether the endpoint honours `Idempotency-Key`: household writes do (see
    /// crate::idempotency); the public auth endpoints have no household to keep answers for, and
    /// the unkeyed ones say why.
    pub fn keyed(&self) -> bool {
        !self.public && !self.unkeyed && shared::http::writes(self.route.method)
    }

    /// A write that takes no `Idempotency-Key` (it answers secrets, which are never kept, or is
    /// safe to repeat by itself): the header is not documented for it.
    pub fn unkeyed(mut self) -> Self {
        self.unkeyed = true;
        self
    }

    /// Takes a JSON body of type `T`, with an example.
    pub fn body<T: ToSchema>(mut self, example: Value) -> Self {
        let schema = reference::<T>(&mut self.schemas);
        self.body = Some((schema, Some(example)));
        self
    }

    /// Takes a JSON body that is either an `A` or a `B`, with an example.
    pub fn body_one_of<A: ToSchema, B: ToSchema>(mut self, example: Value) -> Self {
        let schema = json!({"oneOf": [reference::<A>(&mut self.schemas), reference::<B>(&mut self.schemas)]});
        self.body = Some((schema, Some(example)));
        self
    }

    /// Answers `status` with a JSON `A` or `B`.
    pub fn answers_one_of<A: ToSchema, B: ToSchema>(
        mut self,
        status: u16,
        description: &'static str,
    ) -> Self {
        let schema = json!({"oneOf": [reference::<A>(&mut self.schemas), reference::<B>(&mut self.schemas)]});
        self.successes
            .push((status, description, Some(("application/json", schema))));
        self
    }

    /// Answers `status` with a JSON `T`.
    pub fn answers<T: ToSchema>(mut self, status: u16, description: &'static str) -> Self {
        let schema = reference::<T>(&mut self.schemas);
        self.successes
            .push((status, description, Some(("application/json", schema))));
        self
    }

    /// Answers `status` with `content_type` described by `schema` (for what is not JSON).
    pub fn answers_with(
        mut self,
        status: u16,
        description: &'static str,
        content_type: &'static str,
        schema: Value,
    ) -> Self {
        self.successes
            .push((status, description, Some((content_type, schema))));
        self
    }

    /// Answers `status` (204) with no body.
    pub fn answers_nothing(mut self, status: u16, description: &'static str) -> Self {
        self.successes.push((status, description, None));
        self
    }

    /// Its successful answers carry the resource's `ETag`.
    pub fn etag(mut self) -> Self {
        self.etag = true;
        self
    }

    /// Honours `If-Match` (412 when the resource changed).
    pub fn if_match(mut self) -> Self {
        self.if_match = true;
        self.problems.push((
            412,
            "The resource changed since the version in `If-Match`: read it again, then retry.",
        ));
        self
    }

    /// A query parameter; 422 names it when it is invalid.
    pub fn query(mut self, name: &'static str, description: &'static str, schema: Value) -> Self {
        self.query.push(json!({
            "name": name, "in": "query", "required": false, "description": description, "schema": schema,
        }));
        self
    }

    /// A problem this endpoint can answer besides those every endpoint of its kind can.
    /// A list that takes `last_knowledge_of_server` for a delta read.
    pub fn delta(self) -> Self {
        self.query(
            crate::sync::PARAM,
            "Only what changed after this `server_knowledge` (of an earlier answer), deletions as \
             tombstones (`{\"id\": …, \"deleted\": true}`). A number the server has not reached is 422.",
            json!({"type": "integer", "format": "int64", "minimum": 0}),
        )
    }

    pub fn problem(mut self, status: u16, description: &'static str) -> Self {
        self.problems.push((status, description));
        self
    }

    /// The path parameters, from the route's template: `{month}` is a [`Month`], the rest ids.
    fn path_parameters(&mut self) -> Vec<Value> {
        let names: Vec<&str> = self
            .route
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        names
            .into_iter()
            .map(|name| {
                let (schema, description) = if name == "month" {
                    (reference::<Month>(&mut self.schemas), "The month, YYYY-MM.".to_owned())
                } else {
                    let of = name.trim_end_matches("_id").replace('_', " ");
                    (
                        json!({"type": "string", "format": "uuid"}),
                        format!("The {of}'s id (a UUIDv7)."),
                    )
                };
                json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
            })
            .collect()
    }

    /// The operation object, and the schemas it refers to.
    pub fn build(mut self, operation_id: &str) -> (Value, Schemas) {
        let mut parameters = self.path_parameters();
        let has_path_parameters = !parameters.is_empty();
        parameters.append(&mut self.query);
        if self.if_match {
            parameters.push(json!({
                "name": "If-Match", "in": "header", "required": false,
                "description": "Write only if the resource is still at this version (its `ETag`); `*` for any version.",
                "schema": {"type": "string"},
            }));
        }
        let keyed = self.keyed();
        if keyed {
            parameters.push(json!({
                "name": crate::idempotency::HEADER, "in": "header", "required": false,
                "description": "Makes a retry safe: the first request with a key runs and its answer is kept \
                                for 24 hours; a repeat with the same key and the same request answers the same \
                                status and body (with `Idempotent-Replayed: true`) without running again. \
                                1 to 255 visible ASCII characters. A key belongs to the member who sends it: \
                                its answer is repeated only to them, only while they keep the role they sent \
                                it with, and another member's request with the same key is refused (409).",
                "schema": {"type": "string", "minLength": 1, "maxLength": crate::idempotency::MAX_KEY_LEN,
                           "pattern": "^[!-~]+$"},
            }));
        }
        let mut problems = self.problems.clone();
        if !self.public {
            problems.push((401, "No valid access token (`Authorization: Bearer …`)."));
        }
        if self.body.is_some() {
            problems.push((400, "The body is not valid JSON."));
            problems.push((413, "The body is too large."));
            problems.push((415, "The body is not `application/json`."));
        }
        if self.body.is_some() || !parameters.is_empty() {
            problems.push((
                422,
                "Invalid fields or parameters; `errors` names each one and why. Nothing was changed.",
            ));
        }
        if has_path_parameters {
            problems.push((
                404,
                "No such resource in your household: unknown, another household's, or a malformed id alike.",
            ));
        }
        problems.push((
            500,
            "An unexpected failure; `detail` quotes the request id to report.",
        ));
        problems.push((
            503,
            "The database is resuming from a pause; retry after `Retry-After` seconds.",
        ));

        let problem = reference::<Problem>(&mut self.schemas);
        let mut responses = Map::new();
        for (status, description, content) in &self.successes {
            let mut response = json!({"description": description});
            if let Some((content_type, schema)) = content {
                response["content"] = json!({ *content_type: {"schema": schema} });
            }
            if self.etag {
                response["headers"] = json!({"ETag": {
                    "description": "The resource's version, for `If-Match`.",
                    "schema": {"type": "string"},
                }});
            }
            responses.insert(status.to_string(), response);
        }
        for (status, description) in problems {
            let mut response = json!({
                "description": description,
                "content": {"application/problem+json": {"schema": problem}},
            });
            if matches!(status, 429 | 503) {
                response["headers"] = json!({"Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer"},
                }});
            }
            responses.entry(status.to_string()).or_insert(response);
        }
        if keyed {
            let keyed_problems = [
                (
                    "409",
                    "A request with the same `Idempotency-Key` is still running, or ended without an answer, or was sent by another member.",
                ),
                (
                    "403",
                    "The first request with this `Idempotency-Key` was made as an owner, which you no longer are.",
                ),
                (
                    "413",
                    "The answer would be larger than the database can return (`/problems/answer-too-large`); nothing was written.",
                ),
            ];
            for (status, text) in keyed_problems {
                let entry = responses.entry(status.to_owned()).or_insert_with(
                    || json!({"description": "", "content": {"application/problem+json": {"schema": problem}}}),
                );
                entry["description"] = match entry["description"].as_str() {
                    Some(own) if !own.is_empty() => json!(format!("{own} Or: {text}")),
                    _ => json!(text),
                };
            }
            for (status, _, _) in &self.successes {
                if let Some(success) = responses.get_mut(&status.to_string()) {
                    success["headers"][crate::idempotency::REPLAYED] = json!({
                        "description": "`true` when this is the kept answer to an earlier request with the same `Idempotency-Key`.",
                        "schema": {"type": "string", "enum": ["true"]},
                    });
                }
            }
        }

        let mut operation = json!({
            "operationId": operation_id,
            "summary": self.summary,
            "tags": [tag(self.route.path)],
            "responses": responses,
        });
        if let Some(description) = self.description {
            operation["description"] = json!(description);
        }
        if !parameters.is_empty() {
            operation["parameters"] = json!(parameters);
        }
        if let Some((schema, example)) = self.body {
            let mut media = json!({"schema": schema});
            if let Some(example) = example {
                media["example"] = example;
            }
            operation["requestBody"] = json!({"required": true, "content": {"application/json": media}});
        }
        operation["security"] = if self.public {
            json!([])
        } else {
            json!([{"bearer": []}])
        };
        (operation, self.schemas)
    }
}

/// The tag that groups an operation: its path's first segment.
fn tag(path: &str) -> String {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The schema of `T` as JSON, for a query parameter.
pub fn inline<T: PartialSchema>() -> Value {
    schema_json(T::schema())
}
