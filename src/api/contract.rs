//! The answers every operation shares, added to the OpenAPI document in one place so that no
//! operation can forget one: what the body, query and path extractors refuse, what a missing
//! or wrong token gets, and what the server says when its database or its hashing queue can't
//! keep up. Operation-specific answers (409 `slot_full`, ...) stay on the operations.
//!
//! It also writes what every problem `code` means from [`Code`], the one list of codes: into
//! the `Problem` schema (as the enum of `code`) and after each error response's description.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, Schema, Type};
use utoipa::Modify;

use crate::error::Code;

/// Adds the shared responses to every operation of the document.
pub struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            // Neither needs the database to answer (`/metrics` reports it as a gauge).
            let is_health = path == "/healthz" || path == "/metrics";
            // Its token is the operator's, not a person's: no role or post to refuse.
            let own_token = path == "/metrics";
            for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch]
                .into_iter()
                .flatten()
            {
                add_shared(op, is_health, own_token);
                explain_codes(op);
            }
        }
        if let Some(components) = openapi.components.as_mut() {
            if let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") {
                if let Some(RefOr::T(Schema::Object(code))) = problem.properties.get_mut("code") {
                    code.enum_values = Some(Code::ALL.iter().map(|c| c.as_str().into()).collect());
                    code.description = Some("a stable identifier to switch on; see each response".into());
                }
            }
        }
    }
}

/// The codes named (in backticks) in `description`, in order, once each.
pub fn codes_named(description: &str) -> Vec<Code> {
    let mut codes = Vec::new();
    for (i, part) in description.split('`').enumerate() {
        if let Some(code) = (i % 2 == 1).then(|| Code::parse(part)).flatten() {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    codes
}

/// Appends what each code an error response names means, from [`Code`].
fn explain_codes(op: &mut Operation) {
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            let codes = codes_named(&response.description);
            if codes.is_empty() || response.description.contains("\n\nCodes:") {
                continue;
            }
            let meanings: Vec<String> =
                codes.iter().map(|c| format!("`{}`: {}", c.as_str(), c.meaning())).collect();
            response.description = format!("{}\n\nCodes: {}.", response.description, meanings.join("; "));
        }
    }
}

fn add_shared(op: &mut Operation, is_health: bool, own_token: bool) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let has_path = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let has_body = op.request_body.is_some();
    let secured = op.security.is_some();

    let mut bad_request = Vec::new();
    if has_body {
        bad_request.push("`malformed_json` (the body is not JSON), `unreadable_body`");
    }
    if has_query {
        bad_request.push("`invalid_query` (a query parameter is missing or of the wrong type)");
    }
    if has_path {
        bad_request.push("`invalid_path` (a path segment of the wrong type)");
    }
    let responses = &mut op.responses.responses;
    let mut add = |status: &str, description: String, retry_after: bool| {
        responses.entry(status.to_string()).or_insert_with(|| problem(&description, retry_after));
    };
    if !bad_request.is_empty() {
        add("400", bad_request.join("; "), false);
    }
    if secured {
        add(
            "401",
            "`missing_token`, `invalid_token` (also a token from before a password change, \
                    disabling, or a role or post change), `token_expired`"
                .into(),
            false,
        );
    }
    if secured && !own_token {
        add(
            "403",
            "`insufficient_role`, `wrong_post`, `public_token_not_staff`, `staff_token_not_applicant`".into(),
            false,
        );
    }
    if has_path {
        add("404", "`not_found`: nothing of that name (or not the caller's)".into(), false);
    }
    if has_body {
        add(
            "413",
            "`payload_too_large`: the body is over the server's limit (64 KiB by default, \
                    `CONSULAR_DESK_MAX_BODY_BYTES`)"
                .into(),
            false,
        );
        add("415", "`unsupported_media_type`: the body must be `application/json`".into(), false);
    }
    if has_body || has_query {
        add("422", "`validation_failed`: well-formed but invalid; `errors` names each field".into(), false);
    }
    add("500", "`internal_error`: details only in the server log".into(), false);
    if !is_health {
        add(
            "503",
            "`unavailable`: the database is not answering, or too many sign-ins are waiting \
                    for a password check; `Retry-After` says when to try again"
                .into(),
            true,
        );
    }
    // Every 429 an operation declares says when to come back.
    if let Some(RefOr::T(throttled)) = responses.get_mut("429") {
        throttled.headers.entry("Retry-After".to_string()).or_insert_with(|| RefOr::T(retry_after_header()));
    }
}

/// A problem+json response with `description`, and an optional `Retry-After` header.
fn problem(description: &str, retry_after: bool) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let mut response =
        ResponseBuilder::new().description(description).content("application/problem+json", content);
    if retry_after {
        response = response.header("Retry-After", retry_after_header());
    }
    RefOr::T(response.build())
}

/// `Retry-After` in seconds, on 429 and 503 answers.
pub fn retry_after_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1))))
        .description(Some("seconds to wait before trying again"))
        .build()
}
